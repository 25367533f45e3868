#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <sched.h>
#include <stdint.h>
#include <sys/resource.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleave_process.h"
#include "cleave_syscalls.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int cleave_signalfd(const int *signals, int count) {
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < count; i++) sigaddset(&set, signals[i]);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) return -1;
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int cleave_signalfd_read(int fd, int *signo, int *from_kernel, int *sender_pid) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof info);
    if (n < 0) return errno == EAGAIN ? 0 : -1;
    if (n != (ssize_t)sizeof info) return 0;
    *signo = (int)info.ssi_signo;
    *from_kernel = info.ssi_code == SI_KERNEL;
    *sender_pid = (int)info.ssi_pid;
    return 1;
}

int cleave_set_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

int cleave_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int cleave_pidfd_open(int pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int cleave_pidfd_wait(int pidfd, unsigned long long timeout_ns) {
    struct timespec now, end;
    clock_gettime(CLOCK_MONOTONIC, &now);
    end.tv_sec = now.tv_sec + (time_t)(timeout_ns / 1000000000ULL);
    end.tv_nsec = now.tv_nsec + (long)(timeout_ns % 1000000000ULL);
    if (end.tv_nsec >= 1000000000L) { end.tv_sec++; end.tv_nsec -= 1000000000L; }
    for (;;) {
        struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
        struct timespec left = { end.tv_sec - now.tv_sec, end.tv_nsec - now.tv_nsec };
        if (left.tv_nsec < 0) { left.tv_sec--; left.tv_nsec += 1000000000L; }
        if (left.tv_sec < 0) return 0;
        int n = ppoll(&pfd, 1, &left, NULL);
        if (n >= 0) return n > 0;
        if (errno != EINTR) return -1;
        clock_gettime(CLOCK_MONOTONIC, &now);
    }
}

int cleave_spawn_add_closefrom(posix_spawn_file_actions_t *actions, int lowfd) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return posix_spawn_file_actions_addclosefrom_np(actions, lowfd);
#else
    (void)actions; (void)lowfd;
    return ENOSYS;
#endif
}

int cleave_pidfd_send_signal(int pidfd, int sig) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int cleave_waitid_pidfd(int pidfd, int *status_out, int options) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (syscall(SYS_waitid, P_PIDFD, pidfd, &info, options, NULL) != 0) return -1;
    switch (info.si_code) {
    case CLD_EXITED: *status_out = (info.si_status & 0xff) << 8; break;
    case CLD_KILLED: *status_out = info.si_status & 0x7f; break;
    case CLD_DUMPED: *status_out = (info.si_status & 0x7f) | 0x80; break;
    default: *status_out = 0; break;
    }
    return 0;
}

int cleave_set_fair_slice(unsigned long long slice_ns) {
    /* Only a plain SCHED_OTHER thread, and at the nice value it has: what a manager chose
     * (a batch or real-time policy, a nice value) stays as it is. */
    if (sched_getscheduler(0) != SCHED_OTHER) return 0;
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);
    if (nice == -1 && errno != 0) return -1;
    struct cleave_sched_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.policy = SCHED_OTHER;
    attr.nice = nice;
    attr.runtime = slice_ns;
    return (int)syscall(SYS_sched_setattr, 0, &attr, 0);
}

int cleave_set_sched_idle(int idle) {
    struct sched_param param;
    memset(&param, 0, sizeof param);
    return sched_setscheduler(0, idle ? SCHED_IDLE : SCHED_OTHER, &param);
}

int cleave_same_address_space(int a, int b) {
    long rc = syscall(SYS_kcmp, a, b, 1 /* KCMP_VM */, 0, 0);
    return rc < 0 ? -1 : rc == 0;
}
