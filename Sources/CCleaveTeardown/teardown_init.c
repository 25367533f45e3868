/* The parent side: decides whether this process gets a helper, clones it,
 * waits until it has confined itself, and keeps the write end of its exec
 * pipe. Ordinary libc here. Nothing in this file may change what the program
 * sees: no setenv, argv, environ and auxv stay as the kernel gave them. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleave_teardown.h"
#include "cleave_contract.h"
#include "cleave_syscalls.h"
#include "helper_internal.h"


typedef int (*clone_function)(int (*)(void *), void *, int, void *, ...);

/* libc's clone, past any interceptor the executable defines: ThreadSanitizer's clone
 * interceptor runs its fork bookkeeping in the child, and in a CLONE_VM child that is the
 * parent's own TSan state (CHECK failures in a TSan-built process). Same function otherwise. */
static clone_function libc_clone(void) {
    clone_function next = (clone_function)dlsym(RTLD_NEXT, "clone");
    return next ? next : clone;
}

/* A raw-syscall helper needs well under 1 KiB of stack (measured at
 * ~60 bytes); the directory-walk fallback uses 1 KiB. 64 KiB leaves room. */
#define HELPER_STACK_SIZE (64 * 1024)

static pid_t helper_pid;
static pid_t owner_pid;
static struct cleave_helper_args helper_args;
/* The exec pipe's write end (O_CLOEXEC), and its identity: a program may
 * close it and reuse the number, and a fork child must then not close the
 * program's own descriptor. */
static int exec_pipe_write = -1;
static dev_t exec_pipe_dev;
static ino_t exec_pipe_ino;

pid_t cleave_teardown_helper_pid(void) { return owner_pid == getpid() ? helper_pid : 0; }

static void warn(const char *reason) {
    char line[256];
    int n = snprintf(line, sizeof line,
                     "cleave-teardown: warning: cannot start the teardown helper (%s); memory will be freed synchronously at exit\n",
                     reason);
    if (n > 0) {
        ssize_t w = write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        (void)w;
    }
}

const char *cleave_helper_step_name(int step) {
    switch (step) {
    case CLEAVE_STEP_RLIMIT_CORE: return "setrlimit RLIMIT_CORE";
    case CLEAVE_STEP_CAPGET: return "capget";
    case CLEAVE_STEP_CAPSET: return "capset";
    case CLEAVE_STEP_SETGROUPS: return "setgroups";
    case CLEAVE_STEP_SETRESGID: return "setresgid";
    case CLEAVE_STEP_CAPBSET_DROP: return "PR_CAPBSET_DROP";
    case CLEAVE_STEP_SETRESUID: return "setresuid";
    case CLEAVE_STEP_CAPS_LEFT: return "capabilities left after capset";
    case CLEAVE_STEP_DUMPABLE: return "PR_SET_DUMPABLE";
    case CLEAVE_STEP_NO_NEW_PRIVS: return "PR_SET_NO_NEW_PRIVS";
    case CLEAVE_STEP_PDEATHSIG: return "parent-death signal";
    case CLEAVE_STEP_SECCOMP: return "seccomp filter";
    case CLEAVE_STEP_PARENT_GONE: return "parent exited during set-up";
    default: return "set-up";
    }
}

static int parse_pid(const char *s, pid_t *out) {
    if (!s || !*s) return -1;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        v = v * 10 + (*p - '0');
        if (v > INT_MAX) return -1;
    }
    if (v <= 0) return -1;
    *out = (pid_t)v;
    return 0;
}

/* Real and effective uid and gid of a process, from /proc/<pid>/status. */
static int process_ids(pid_t pid, unsigned int ids[4]) {
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    const char *uid = strstr(buf, "\nUid:"), *gid = strstr(buf, "\nGid:");
    if (!uid || !gid) return -1;
    if (sscanf(uid + 5, "%u %u", &ids[0], &ids[1]) != 2 || sscanf(gid + 5, "%u %u", &ids[2], &ids[3]) != 2) return -1;
    return 0;
}

/* Whether this process image gets a helper.
 * - CLEAVE_TEARDOWN=off|0|sync: none.
 * - CLEAVE_TEARDOWN_INHERIT=1: every process, exec'd or (see after_fork) forked.
 * - CLEAVE_TEARDOWN_PID names the designated process (cleave run sets it in
 *   the workload's environment before exec; it survives exec, so every image
 *   of that pid gets one). A child of it gets one too when it runs as another
 *   user: that is what fork-style launchers (su, runuser, sudo) do — they
 *   switch user in a child, exec the server there and wait for it. The
 *   designated process's other children (a shell's commands, a server's
 *   workers) get none.
 * - Unset (LD_PRELOAD by hand, a linked program): this image gets one; a
 *   child that only forks does not (the library never runs again in it). */
static int wanted(pid_t self) {
    const char *mode = getenv(CLEAVE_ENV_TEARDOWN);
    if (mode && (!strcmp(mode, "off") || !strcmp(mode, "0") || !strcmp(mode, "sync"))) return 0;
    const char *inherit = getenv(CLEAVE_ENV_TEARDOWN_INHERIT);
    if (inherit && !strcmp(inherit, "1")) return 1;
    const char *target = getenv(CLEAVE_ENV_TEARDOWN_PID);
    if (!target || !*target) return 1;
    pid_t designated;
    if (parse_pid(target, &designated) != 0) {
        warn(CLEAVE_ENV_TEARDOWN_PID " is not a pid");
        return 0;
    }
    if (designated == self) return 1;
    if (designated != getppid()) return 0;
    unsigned int parent[4], mine[4] = {getuid(), geteuid(), getgid(), getegid()};
    if (process_ids(designated, parent) != 0) return 0;
    return memcmp(parent, mine, sizeof mine) != 0;
}

static unsigned int overflow_id(const char *path) {
    char buf[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 65534;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 65534;
    buf[n] = 0;
    char *end;
    unsigned long v = strtoul(buf, &end, 10);
    return (end == buf || v == 0 || v > 0x7fffffff) ? 65534 : (unsigned int)v;
}

static int is_exec_pipe(int fd) {
    struct stat st;
    return fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && st.st_dev == exec_pipe_dev && st.st_ino == exec_pipe_ino;
}

static void close_quietly(int fd) {
    if (fd >= 0) close(fd);
}

/* Waits for the helper's answer (CLEAVE_HELPER_READY or _FAILED), or its death
 * (the kernel clears `state` through CLONE_CHILD_CLEARTID). 5 s bound: a
 * helper that neither answers nor dies is killed. */
static int wait_for_helper(void) {
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int state = __atomic_load_n(&helper_args.state, __ATOMIC_ACQUIRE);
        if (state != CLEAVE_HELPER_PENDING) return state;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= 5) return -1;
        struct timespec slice = {0, 50 * 1000 * 1000};
        syscall(SYS_futex, &helper_args.state, FUTEX_WAIT, CLEAVE_HELPER_PENDING, &slice, NULL, 0);
    }
}

int cleave_teardown_init(void);

/* In a forked child: the exec pipe's write end is the parent's, not ours —
 * holding it would hide the parent's exec from its helper. With
 * CLEAVE_TEARDOWN_INHERIT=1 the child gets a helper of its own. */
static void after_fork(void) {
    if (exec_pipe_write >= 0 && is_exec_pipe(exec_pipe_write)) close(exec_pipe_write);
    exec_pipe_write = -1;
    helper_pid = 0;
    const char *inherit = getenv(CLEAVE_ENV_TEARDOWN_INHERIT);
    if (inherit && !strcmp(inherit, "1")) (void)cleave_teardown_init();
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void register_atfork(void) { pthread_atfork(NULL, NULL, after_fork); }

int cleave_teardown_init(void) {
    pid_t self = getpid();
    if (owner_pid == self && helper_pid > 0) return helper_pid;
    owner_pid = self; /* a forked child starts over */
    helper_pid = 0;
    pthread_once(&atfork_once, register_atfork);
    if (!wanted(self)) return 0;

    cleave_reap_previous_helpers(self);

    int err = 0;
    const char *failed = NULL;
    int pidfd = (int)syscall(__NR_pidfd_open, self, 0);
    if (pidfd < 0 && errno != ENOSYS) {
        err = errno;
        failed = "pidfd_open";
    }
    int pipefd[2] = {-1, -1};
    if (!failed && pipe2(pipefd, O_CLOEXEC) != 0) {
        err = errno;
        failed = "pipe2";
    }
    /* Keep the write end out of 0-2: a program started with closed standard
     * descriptors must still find them closed. */
    if (!failed && pipefd[1] < 3) {
        int moved = fcntl(pipefd[1], F_DUPFD_CLOEXEC, 3);
        if (moved < 0) {
            err = errno;
            failed = "fcntl F_DUPFD_CLOEXEC";
        } else {
            close(pipefd[1]);
            pipefd[1] = moved;
        }
    }
    struct stat st;
    if (!failed && fstat(pipefd[1], &st) != 0) {
        err = errno;
        failed = "fstat";
    }
    int statm = failed ? -1 : open("/proc/self/statm", O_RDONLY | O_CLOEXEC); /* optional: see shares_parent_mm */

    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) page = 4096;
    size_t total = HELPER_STACK_SIZE + (size_t)page;
    char *stack = MAP_FAILED;
    if (!failed) {
        stack = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED) {
            err = errno;
            failed = "mmap";
        }
    }
    if (failed) {
        close_quietly(pidfd);
        close_quietly(pipefd[0]);
        close_quietly(pipefd[1]);
        close_quietly(statm);
        char reason[128];
        snprintf(reason, sizeof reason, "%s: %s", failed, strerror(err));
        warn(reason);
        return -err;
    }
    /* Guard page below the stack: an overflow faults instead of writing
     * into the workload's memory. */
    mprotect(stack, (size_t)page, PROT_NONE);

    helper_args.parent_tgid = self;
    helper_args.parent_pidfd = pidfd;
    helper_args.exec_pipe = pipefd[0];
    helper_args.parent_statm = statm;
    helper_args.drop_uid = overflow_id("/proc/sys/kernel/overflowuid");
    helper_args.drop_gid = overflow_id("/proc/sys/kernel/overflowgid");
    helper_args.slice_ns = CLEAVE_HELPER_SLICE_NS;
    helper_args.failed_step = 0;
    helper_args.failed_errno = 0;
    __atomic_store_n(&helper_args.state, CLEAVE_HELPER_PENDING, __ATOMIC_RELEASE);
    snprintf(helper_args.name, sizeof helper_args.name, CLEAVE_HELPER_NAME_PREFIX "%d", (int)self);
    /* The parallel release's descriptor and memory, or workers 1 (as before). */
    char cgroup_dir[4200];
    int workers = cleave_release_worker_count(cgroup_dir, sizeof cgroup_dir);
    cleave_release_prepare(&helper_args.release, workers, cgroup_dir, (unsigned long)stack, total);

    /* All signals blocked across clone: the helper starts with everything
     * blocked, so no handler of the workload ever runs on its stack. Exit
     * signal 0: the workload gets no SIGCHLD and its wait() never reaps the
     * helper; when the workload dies the kernel reparents the helper and
     * makes its exit signal SIGCHLD for the new parent. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    /* The helper inherits this thread's name at clone, so it is cleanup/<pid>
     * from birth (its own PR_SET_NAME may not have run yet). */
    char thread_name[16] = {0};
    prctl(PR_GET_NAME, thread_name, 0, 0, 0);
    prctl(PR_SET_NAME, helper_args.name, 0, 0, 0);
    clone_function do_clone = libc_clone();
    pid_t pid = do_clone(cleave_helper_main, stack + total, CLONE_VM | CLONE_CHILD_CLEARTID, &helper_args,
                         NULL, NULL, &helper_args.state);
    err = errno;
    prctl(PR_SET_NAME, thread_name, 0, 0, 0);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    /* The helper has its own copies; the parent keeps only the write end. */
    close_quietly(pidfd);
    close_quietly(pipefd[0]);
    close_quietly(statm);
    /* The helper has its copy; the region stays. (The field is cleared only
     * once the helper has answered: it reads its arguments when it starts.) */
    close_quietly(helper_args.release.procs_fd);

    if (pid < 0) {
        close(pipefd[1]);
        munmap(stack, total);
        helper_args.release.procs_fd = -1;
        cleave_release_discard(&helper_args.release);
        warn(strerror(err));
        return -err;
    }

    /* Until the helper has dropped its privileges and installed its filter,
     * nothing of the program runs: no window where a privileged helper waits. */
    int state = wait_for_helper();
    helper_args.release.procs_fd = -1; /* closed above */
    if (state != CLEAVE_HELPER_READY) {
        char reason[160];
        if (state == -1) {
            kill(pid, SIGKILL);
            snprintf(reason, sizeof reason, "no answer from the helper within 5 s");
            err = ETIMEDOUT;
        } else if (helper_args.failed_step != 0) {
            err = helper_args.failed_errno > 0 ? helper_args.failed_errno : EPERM;
            snprintf(reason, sizeof reason, "%s: %s", cleave_helper_step_name(helper_args.failed_step), strerror(err));
        } else {
            snprintf(reason, sizeof reason, "the helper died during set-up");
            err = ECHILD;
        }
        close(pipefd[1]);
        siginfo_t info;
        while (waitid(P_PID, (id_t)pid, &info, WEXITED | __WALL) != 0 && errno == EINTR) {}
        munmap(stack, total); /* reaped: nothing runs on it any more */
        cleave_release_discard(&helper_args.release);
        warn(reason);
        return -err;
    }
    exec_pipe_write = pipefd[1];
    exec_pipe_dev = st.st_dev;
    exec_pipe_ino = st.st_ino;
    /* The stack stays mapped: it lives in the shared address space for as
     * long as the helper runs. */
    helper_pid = pid;
    return pid;
}
