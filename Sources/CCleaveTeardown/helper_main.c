/* The body of the teardown helper. It runs in a CLONE_VM child that shares
 * the workload's memory and TLS: raw system calls only, nothing from libc,
 * no errno, no stack protector (which reads the parent's TLS canary — harmless
 * — but keep the helper free of any libc dependence), no sanitizers. */
#include <linux/prctl.h>
#include <sys/syscall.h>

#include "helper_internal.h"
#include "raw_syscall.h"

/* no_sanitize("thread") still leaves TSan's function entry/exit hooks, which update the
 * calling thread's TSan state through TLS: in a CLONE_VM child that is the parent's TLS, and
 * the parent's state broke (TSan "CHECK failed: thr->slot" in the test process, hack/sanitize.sh
 * thread). disable_sanitizer_instrumentation (clang 14+) removes every hook. */
#if defined(__has_attribute)
#if __has_attribute(disable_sanitizer_instrumentation)
#define HELPER_NO_INSTRUMENTATION , disable_sanitizer_instrumentation
#endif
#endif
#ifndef HELPER_NO_INSTRUMENTATION
#define HELPER_NO_INSTRUMENTATION
#endif
#define HELPER_FN __attribute__((no_stack_protector, no_sanitize("address", "thread", "undefined") HELPER_NO_INSTRUMENTATION))

#ifndef __NR_close_range
#define __NR_close_range 436
#endif

struct linux_dirent64 {
    unsigned long long d_ino;
    long long d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

HELPER_FN static int parse_fd(const char *s) {
    int v = 0;
    if (!*s) return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

/* Every inherited descriptor goes: the helper must hold no socket, pipe or
 * lock open after the workload is gone. close_range (5.9) first, then
 * /proc/self/fd, then everything below RLIMIT_NOFILE. */
HELPER_FN static void close_all_fds(void) {
    if (raw_syscall3(__NR_close_range, 0, ~0U, 0) == 0) return;

    long dir = raw_syscall4(__NR_openat, -100 /* AT_FDCWD */, "/proc/self/fd", 0200000 /* O_DIRECTORY */, 0);
    if (dir >= 0) {
        char buf[1024] __attribute__((aligned(8)));
        for (;;) {
            long n = raw_syscall3(__NR_getdents64, dir, buf, sizeof buf);
            if (n <= 0) break;
            for (long off = 0; off < n;) {
                struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
                int fd = parse_fd(d->d_name);
                if (fd >= 0 && fd != dir) raw_syscall1(__NR_close, fd);
                off += d->d_reclen;
            }
        }
        raw_syscall1(__NR_close, dir);
        return;
    }

    unsigned long lim[2] = {1024, 1024};
    raw_syscall4(__NR_prlimit64, 0, 7 /* RLIMIT_NOFILE */, 0, lim);
    unsigned long max = lim[0] > 1048576 ? 1048576 : lim[0];
    for (unsigned long fd = 0; fd < max; fd++) raw_syscall1(__NR_close, fd);
}

HELPER_FN int cleave_helper_main(void *arg) {
    /* Copy what we need: the parent may reuse its memory. */
    struct cleave_helper_args a = *(volatile struct cleave_helper_args *)arg;

    raw_syscall2(__NR_prctl, PR_SET_NAME, a.name);
    close_all_fds();
    raw_syscall1(__NR_chdir, "/"); /* keep no directory (or mount) busy */
    raw_syscall2(__NR_prctl, PR_SET_PDEATHSIG, CLEAVE_SIG_PDEATH);

    /* The kernel sends the pdeath signal each time the parent *thread* dies
     * and the helper is handed to a sibling thread (getppid() unchanged), and
     * sets the new parent before sending it; only when the whole thread group
     * is gone does getppid() change. No polling interval: the wait ends the
     * moment the signal is sent; the timeout is only a safety net. */
    unsigned long set = (1UL << (CLEAVE_SIG_PDEATH - 1)) | (1UL << (CLEAVE_SIG_RETIRE - 1));
    struct { long tv_sec, tv_nsec; } timeout = {30, 0};
    while (raw_syscall0(__NR_getppid) == a.parent_tgid) {
        long sig = raw_syscall4(__NR_rt_sigtimedwait, &set, 0, &timeout, 8);
        if (sig == CLEAVE_SIG_RETIRE) break;
    }
    /* Last user of the address space: exit_mmap() runs here, charged to
     * this cgroup, after the workload has been reaped. */
    for (;;) raw_syscall1(__NR_exit, 0);
    return 0;
}
