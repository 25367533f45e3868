/* The keeper of cleave's own address space (cleave_exit_keeper.h). Its body
 * follows the helper's rules (helper_fn.h): it shares cleave's memory and TLS. */
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleave_contract.h"
#include "cleave_exit_keeper.h"
#include "helper_fn.h"
#include "helper_internal.h"
#include "raw_syscall.h"

#ifndef __NR_close_range
#define __NR_close_range 436
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif

/* Enough for the few frames below; static, so nothing is mapped for it. */
static char keeper_stack[16384] __attribute__((aligned(64)));
static int keeper_started;

/* How long the keeper stays off the run queue after cleave's exit (below). */
#define KEEPER_PAUSE_NS 5000000L

HELPER_FN static int keeper_main(void *arg) {
    int pidfd = (int)(long)arg;
    /* A copy of stdout here would hold back the EOF its reader waits for, and
     * the run's lock and the watcher's socket are released by cleave's exit:
     * the keeper keeps none of them. Where it cannot close them it leaves now
     * (cleave then unmaps at its own exit, as without a keeper). */
    if (pidfd > 0 && raw_syscall3(__NR_close_range, 0, (unsigned int)pidfd - 1, 0) != 0) return 1;
    if (raw_syscall3(__NR_close_range, (unsigned int)pidfd + 1, ~0U, 0) != 0) return 1;
    raw_syscall1(__NR_chdir, "/"); /* keep no directory (or mount) busy */
    raw_syscall2(__NR_prctl, 15 /* PR_SET_NAME */, CLEAVE_EXIT_KEEPER_NAME);
    /* Woken by the same exit as cleave's parent and as the workload's teardown
     * helper, it takes CPU time neither of them wants: SCHED_IDLE. (With the
     * helper's long slice instead, the helper's release started 1-2 ms later.) */
    struct { int priority; } param = {0};
    raw_syscall3(__NR_sched_setscheduler, 0, 5 /* SCHED_IDLE */, &param);
    struct helper_pollfd fd = {pidfd, 1 /* POLLIN */, 0};
    for (;;) {
        long n = raw_syscall3(__NR_poll, &fd, 1, -1);
        if (n != -EINTR) break;
    }
    /* Off the run queue a while first: a SCHED_IDLE task the scheduler picks
     * keeps its CPU until it blocks or the tick, and right after cleave's exit
     * it was picked ahead of the manager that exit woke (when the manager had
     * just used more than its share) and unmapped for 0.2 ms in its way. */
    struct helper_timespec pause = {0, KEEPER_PAUSE_NS};
    raw_syscall2(__NR_nanosleep, &pause, 0);
    return 0; /* the last user of the address space: exit_mmap() runs here */
}

int cleave_start_exit_keeper(void) {
    if (keeper_started) return -EALREADY;
    int pidfd = (int)syscall(__NR_pidfd_open, getpid(), 0);
    if (pidfd < 0) return -errno;
    /* All signals blocked across clone, and they stay blocked in the keeper:
     * a terminal's SIGINT to cleave's process group, or any handler of cleave's,
     * never runs on its stack. Exit signal 0: cleave gets no SIGCHLD for it;
     * once cleave is gone the kernel reparents it with SIGCHLD. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    long pid = cleave_release_clone(0x00000100 /* CLONE_VM */, keeper_stack + sizeof keeper_stack, keeper_main,
                                    (void *)(long)pidfd);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(pidfd);
    if (pid < 0) return (int)pid;
    keeper_started = 1;
    return (int)pid;
}
