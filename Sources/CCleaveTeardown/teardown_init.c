/* The parent side: decides whether this process gets a helper, retires the
 * helper of a previous image, and clones the new one. Ordinary libc here. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cleave_teardown.h"
#include "helper_internal.h"

typedef int (*clone_function)(int (*)(void *), void *, int, void *, ...);

/* libc's clone, past any interceptor the executable defines: ThreadSanitizer's clone
 * interceptor runs its fork bookkeeping in the child, and in a CLONE_VM child that is the
 * parent's own TSan state (CHECK failures in a TSan-built process). Same function otherwise. */
static clone_function libc_clone(void) {
    clone_function next = (clone_function)dlsym(RTLD_NEXT, "clone");
    return next ? next : clone;
}

/* A raw-syscall helper needs well under 1 KiB of stack (design.md measured
 * ~60 bytes); the directory-walk fallback uses 1 KiB. 64 KiB leaves room. */
#define HELPER_STACK_SIZE (64 * 1024)

static pid_t helper_pid;
static pid_t owner_pid;
static struct cleave_helper_args helper_args;

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

/* Whether this pid should get a helper. The first process sets
 * CLEAVE_TEARDOWN_PID to itself when nobody did, so its children (which
 * inherit LD_PRELOAD) skip unless CLEAVE_TEARDOWN_INHERIT=1. */
static int wanted(pid_t self) {
    const char *mode = getenv("CLEAVE_TEARDOWN");
    if (mode && (!strcmp(mode, "off") || !strcmp(mode, "0") || !strcmp(mode, "sync"))) return 0;
    const char *inherit = getenv("CLEAVE_TEARDOWN_INHERIT");
    if (inherit && !strcmp(inherit, "1")) return 1;
    const char *target = getenv("CLEAVE_TEARDOWN_PID");
    if (target && *target) return atoi(target) == self;
    char buf[16];
    snprintf(buf, sizeof buf, "%d", (int)self);
    setenv("CLEAVE_TEARDOWN_PID", buf, 1);
    return 1;
}

int cleave_teardown_init(void) {
    pid_t self = getpid();
    if (owner_pid == self && helper_pid > 0) return helper_pid;
    owner_pid = self; /* a forked child starts over */
    helper_pid = 0;
    if (!wanted(self)) return 0;

    cleave_retire_previous_helpers(self);

    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) page = 4096;
    size_t total = HELPER_STACK_SIZE + (size_t)page;
    char *stack = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        int err = errno;
        warn(strerror(err));
        return -err;
    }
    /* Guard page below the stack: an overflow faults instead of writing
     * into the workload's memory. */
    mprotect(stack, (size_t)page, PROT_NONE);

    helper_args.parent_tgid = self;
    snprintf(helper_args.name, sizeof helper_args.name, "cleanup/%d", (int)self);

    /* All signals blocked across clone: the helper starts with everything
     * blocked, so no handler of the workload ever runs on its stack. Exit
     * signal 0: the workload gets no SIGCHLD and its wait() never reaps the
     * helper; when the workload dies the kernel reparents the helper and
     * makes its exit signal SIGCHLD for the new parent. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    /* The helper inherits this thread's name at clone, so it is cleanup/<pid>
     * from birth: an exec right after this call must find it by that name to
     * retire it (its own PR_SET_NAME may not have run yet). */
    char thread_name[16] = {0};
    prctl(PR_GET_NAME, thread_name, 0, 0, 0);
    prctl(PR_SET_NAME, helper_args.name, 0, 0, 0);
    clone_function do_clone = libc_clone();
    pid_t pid = do_clone(cleave_helper_main, stack + total, CLONE_VM, &helper_args);
    int err = errno;
    prctl(PR_SET_NAME, thread_name, 0, 0, 0);
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    if (pid < 0) {
        munmap(stack, total);
        warn(strerror(err));
        return -err;
    }
    /* The stack stays mapped: it lives in the shared address space for as
     * long as the helper runs. */
    helper_pid = pid;
    return pid;
}
