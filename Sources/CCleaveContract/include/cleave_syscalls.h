#ifndef CLEAVE_SYSCALLS_H
#define CLEAVE_SYSCALLS_H

#include <sys/syscall.h>

/* System call numbers newer than some C libraries' headers (Debian 12's glibc
 * knows them; older ones and musl may not). These numbers are the same on
 * every architecture that has the call. The __NR_ names serve the raw-syscall
 * code of the helper, the SYS_ names syscall(2). */
#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal 424
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_clone3
#define __NR_clone3 435
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal __NR_pidfd_send_signal
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open __NR_pidfd_open
#endif
#ifndef SYS_clone3
#define SYS_clone3 __NR_clone3
#endif

/* The kernel's struct sched_attr (sched_setattr(2), first version), of which
 * glibc declares nothing: cleave's supervisor and the teardown helper set
 * their EEVDF slice with it (sched_runtime, Linux 6.12; ignored before). */
struct cleave_sched_attr {
    unsigned int size, policy;
    unsigned long long flags;
    int nice;
    unsigned int priority;
    unsigned long long runtime, deadline, period;
};

#endif
