/* The body of the teardown helper: a CLONE_VM child of the workload that
 * holds its address space and frees it once the workload is gone (see
 * helper_fn.h for the rules every function here follows). */
#include <linux/prctl.h>
#include <sys/syscall.h>

#include "helper_confine.h"
#include "helper_fn.h"
#include "helper_internal.h"
#include "raw_syscall.h"
#include "cleave_syscalls.h"

#ifndef __NR_close_range
#define __NR_close_range 436
#endif

#define FUTEX_WAKE_OP_CODE 1 /* FUTEX_WAKE, shared: CLONE_CHILD_CLEARTID wakes the same key */

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

#define KEPT_FDS 4

HELPER_FN static int is_kept(int fd, const int keep[KEPT_FDS]) {
    for (int i = 0; i < KEPT_FDS; i++)
        if (fd >= 0 && fd == keep[i]) return 1;
    return 0;
}

/* Every inherited descriptor goes but the ones the helper waits on: it must
 * hold no socket, pipe (the exec pipe's write end above all) or lock open.
 * close_range (5.9) around the kept ones, else /proc/self/fd, else brute force. */
HELPER_FN static void close_all_fds(const int keep[KEPT_FDS]) {
    int sorted[KEPT_FDS];
    for (int i = 0; i < KEPT_FDS; i++) sorted[i] = keep[i];
    for (int i = 0; i < KEPT_FDS; i++)
        for (int j = i + 1; j < KEPT_FDS; j++)
            if (sorted[j] < sorted[i]) {
                int t = sorted[i];
                sorted[i] = sorted[j];
                sorted[j] = t;
            }
    unsigned int from = 0;
    int ok = 1;
    for (int i = 0; i < KEPT_FDS && ok; i++) {
        if (sorted[i] < 0) continue;
        if ((unsigned int)sorted[i] > from && raw_syscall3(__NR_close_range, from, (unsigned int)sorted[i] - 1, 0) != 0) ok = 0;
        from = (unsigned int)sorted[i] + 1;
    }
    if (ok && raw_syscall3(__NR_close_range, from, ~0U, 0) == 0) return;

    long dir = raw_syscall4(__NR_openat, -100 /* AT_FDCWD */, "/proc/self/fd", 0200000 /* O_DIRECTORY */, 0);
    if (dir >= 0) {
        char buf[1024] __attribute__((aligned(8)));
        for (;;) {
            long n = raw_syscall3(__NR_getdents64, dir, buf, sizeof buf);
            if (n <= 0) break;
            for (long off = 0; off < n;) {
                struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
                int fd = parse_fd(d->d_name);
                if (fd >= 0 && fd != dir && !is_kept(fd, keep)) raw_syscall1(__NR_close, fd);
                off += d->d_reclen;
            }
        }
        raw_syscall1(__NR_close, dir);
        return;
    }

    unsigned long lim[2] = {1024, 1024};
    raw_syscall4(__NR_prlimit64, 0, 7 /* RLIMIT_NOFILE */, 0, lim);
    unsigned long max = lim[0] > 1048576 ? 1048576 : lim[0];
    for (unsigned long fd = 0; fd < max; fd++)
        if (!is_kept((int)fd, keep)) raw_syscall1(__NR_close, fd);
}

HELPER_FN static int same_bytes(const char *a, long na, const char *b, long nb) {
    if (na <= 0 || na != nb) return 0;
    for (long i = 0; i < na; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

/* Whether the parent still runs in our address space. The exec pipe gives EOF
 * at the parent's exec or exit — or when the program closes the descriptor
 * itself (closefrom at start-up, dup2 over it). kcmp(KCMP_VM) would say it
 * directly but needs ptrace access, which an unprivileged helper lacks for a
 * root parent. /proc/<pid>/statm needs none (opened by the parent before the
 * clone, and by us for ourselves): one mm gives the same seven counters, a new
 * image or a dead parent does not. A workload allocating at that instant can
 * make one pair differ: a few tries, and when in doubt the helper leaves (the
 * workload then only loses the asynchronous teardown). */
HELPER_FN static int shares_parent_mm(int parent_statm, int self_statm) {
    if (parent_statm < 0 || self_statm < 0) return 0;
    char mine[128], theirs[128], again[128];
    for (int attempt = 0; attempt < 5; attempt++) {
        long n1 = raw_syscall4(__NR_pread64, self_statm, mine, sizeof mine, 0);
        long n2 = raw_syscall4(__NR_pread64, parent_statm, theirs, sizeof theirs, 0);
        long n3 = raw_syscall4(__NR_pread64, self_statm, again, sizeof again, 0);
        if (n2 <= 0) return 0; /* the parent is reaped: ESRCH */
        if (same_bytes(mine, n1, theirs, n2) || same_bytes(again, n3, theirs, n2)) return 1;
        struct helper_timespec pause = {0, 1000000};
        raw_syscall5(__NR_ppoll, 0, 0, &pause, 0, 8);
    }
    return 0;
}

/* A long EEVDF slice (Linux 6.12 and later; older kernels ignore it): the
 * release keeps its full share of the CPU, but a task that wakes with the
 * default slice has the earlier deadline and runs first. When the workload
 * dies it wakes the helper and the supervisor together, often on one CPU;
 * the supervisor, then the manager it wakes by exiting, no longer wait out
 * the helper's slice (measured: up to 6 ms at 8 GiB). Only a SCHED_OTHER
 * helper, at the nice value it inherited. */
HELPER_FN static void lengthen_slice(unsigned long long slice_ns) {
    if (!slice_ns || raw_syscall1(__NR_sched_getscheduler, 0) != 0 /* SCHED_OTHER */) return;
    long prio = raw_syscall2(__NR_getpriority, 0 /* PRIO_PROCESS */, 0); /* 20 - nice */
    if (prio < 1 || prio > 40) return;
    struct cleave_sched_attr attr;
    attr.size = sizeof attr;
    attr.policy = 0; /* SCHED_OTHER */
    attr.flags = 0;
    attr.nice = (int)(20 - prio);
    attr.priority = 0;
    attr.runtime = slice_ns;
    attr.deadline = 0;
    attr.period = 0;
    raw_syscall3(__NR_sched_setattr, 0, &attr, 0);
}

HELPER_FN static void report(struct cleave_helper_args *shared, int state, int step, long err) {
    shared->failed_step = step;
    shared->failed_errno = (int)-err;
    shared->state = state;
    raw_syscall3(__NR_futex, &shared->state, FUTEX_WAKE_OP_CODE, 1);
}

HELPER_FN __attribute__((noreturn)) static void leave(void) {
    /* Last user of the address space: exit_mmap() runs here, charged to the
     * workload's cgroup, after the workload has been reaped. */
    for (;;) raw_syscall1(__NR_exit, 0);
}

/* The parent is gone (or exec'd): free in parallel where that is safe, then
 * leave the rest to exit_mmap(). */
HELPER_FN __attribute__((noreturn)) static void release_and_leave(const struct cleave_release_args *release, int maps_fd,
                                                                  int statm_fd, int self) {
    cleave_release_parallel(release, maps_fd, statm_fd, self);
    leave();
}

HELPER_FN int cleave_helper_main(void *arg) {
    /* Read what we need once: the parent may reuse its memory. */
    struct cleave_helper_args *shared = arg;
    int parent = *(volatile int *)&shared->parent_tgid;
    int pidfd = *(volatile int *)&shared->parent_pidfd;
    int exec_pipe = *(volatile int *)&shared->exec_pipe;
    int parent_statm = *(volatile int *)&shared->parent_statm;
    unsigned int drop_uid = *(volatile unsigned int *)&shared->drop_uid;
    unsigned int drop_gid = *(volatile unsigned int *)&shared->drop_gid;
    struct cleave_release_args release;
    release.workers = *(volatile int *)&shared->release.workers;
    release.procs_fd = *(volatile int *)&shared->release.procs_fd;
    release.region = *(volatile unsigned long *)&shared->release.region;
    release.region_size = *(volatile unsigned long *)&shared->release.region_size;
    release.page = *(volatile unsigned long *)&shared->release.page;
    release.helper_stack = *(volatile unsigned long *)&shared->release.helper_stack;
    release.helper_stack_size = *(volatile unsigned long *)&shared->release.helper_stack_size;
    unsigned long long slice_ns = *(volatile unsigned long long *)&shared->slice_ns;

    raw_syscall2(__NR_prctl, PR_SET_NAME, shared->name);
    int keep[KEPT_FDS] = {pidfd, exec_pipe, parent_statm, release.workers > 1 ? release.procs_fd : -1};
    close_all_fds(keep);
    raw_syscall1(__NR_chdir, "/"); /* keep no directory (or mount) busy */
    lengthen_slice(slice_ns); /* before the filter, which does not allow it */
    long self_statm = raw_syscall4(__NR_openat, -100, "/proc/self/statm", 02000000 /* O_CLOEXEC */, 0);
    /* The parallel release reads the mappings after the filter is in, which
     * allows no open: the descriptor is opened now, while the helper may. */
    long maps_fd = -1;
    int self = (int)raw_syscall0(__NR_getpid);
    if (release.workers > 1) maps_fd = raw_syscall4(__NR_openat, -100, "/proc/self/maps", 02000000 /* O_CLOEXEC */, 0);
    if (maps_fd < 0) release.workers = 1;

    int step = CLEAVE_STEP_NONE;
    long rc = cleave_helper_confine(drop_uid, drop_gid, &step);
    if (rc < 0) {
        report(shared, CLEAVE_HELPER_FAILED, step, rc);
        leave();
    }

    /* Wake-up on the parent's end. A pidfd needs no permission: it is readable
     * once the whole thread group has exited. The parent-death signal is
     * permission-checked (an unprivileged parent's is dropped for a root child)
     * and fires per parent thread: only the fallback before Linux 5.3 uses it,
     * armed after the credential switch, which clears it. */
    struct helper_pollfd fds[2];
    fds[0].fd = pidfd;
    fds[0].events = 1 /* POLLIN */;
    fds[1].fd = exec_pipe;
    fds[1].events = 1 /* POLLIN */;
    int fallback = pidfd < 0;
    if (fallback) {
        unsigned long set = 1UL << (CLEAVE_SIG_PDEATH - 1);
        long sfd = raw_syscall4(__NR_signalfd4, -1, &set, 8, 02000000 /* SFD_CLOEXEC */);
        if (sfd < 0) {
            report(shared, CLEAVE_HELPER_FAILED, CLEAVE_STEP_PDEATHSIG, sfd);
            leave();
        }
        if ((rc = raw_syscall2(__NR_prctl, PR_SET_PDEATHSIG, CLEAVE_SIG_PDEATH)) < 0) {
            report(shared, CLEAVE_HELPER_FAILED, CLEAVE_STEP_PDEATHSIG, rc);
            leave();
        }
        fds[0].fd = (int)sfd;
    }
    if ((rc = cleave_helper_install_filter(release.workers > 1, &step)) < 0) {
        report(shared, CLEAVE_HELPER_FAILED, step, rc);
        leave();
    }
    /* The parent may have died before the wake-up was armed. */
    if (raw_syscall0(__NR_getppid) != parent) {
        report(shared, CLEAVE_HELPER_FAILED, CLEAVE_STEP_PARENT_GONE, -3 /* ESRCH */);
        leave();
    }
    report(shared, CLEAVE_HELPER_READY, CLEAVE_STEP_NONE, 0);

    /* No timeout while the exec pipe is watched: every end of the parent's
     * image is an event. After a stray close, and in the fallback (whose
     * signal may be dropped), look again every second. */
    struct helper_timespec second = {1, 0};
    int stray = 0;
    for (;;) {
        struct helper_timespec left = second;
        long n = raw_syscall5(__NR_ppoll, fds, 2, (stray || fallback) ? &left : 0, 0, 8);
        if (n < 0 && n != -4 /* EINTR */) leave();
        if (fds[0].revents) {
            if (!fallback) release_and_leave(&release, (int)maps_fd, (int)self_statm, self); /* the whole thread group is gone */
            char info[128];
            raw_syscall3(__NR_read, fds[0].fd, info, sizeof info);
        }
        if (fallback && raw_syscall0(__NR_getppid) != parent) release_and_leave(&release, (int)maps_fd, (int)self_statm, self);
        if (fds[1].revents) {
            /* EOF (or bytes someone wrote): exec, exit, or a stray close. */
            if (!shares_parent_mm(parent_statm, (int)self_statm)) release_and_leave(&release, (int)maps_fd, (int)self_statm, self);
            fds[1].fd = -1; /* stray: the pipe tells nothing more */
            stray = 1;
        } else if (n == 0 && stray && !shares_parent_mm(parent_statm, (int)self_statm)) {
            release_and_leave(&release, (int)maps_fd, (int)self_statm, self);
        }
    }
}
