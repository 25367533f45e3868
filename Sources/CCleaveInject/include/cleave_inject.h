#ifndef CLEAVE_INJECT_H
#define CLEAVE_INJECT_H

#include <linux/filter.h>
#include <stddef.h>
#include <sys/types.h>

/* What cleave_inject_helper did. */
struct cleave_inject_result {
    int helper_pid;      /* in cleave's PID namespace; 0 if not found there */
    int helper_nspid;    /* as the target sees it (its name is cleanup/<target's own pid>) */
    int target_tid;      /* the one thread that was stopped */
    long long stop_ns;   /* from PTRACE_INTERRUPT until the thread stopped (it ran, or slept in its call) */
    long long pause_ns;  /* from that stop to PTRACE_DETACH: the time it was held */
    int refused;         /* 1: nothing was changed in the target */
    int error;           /* errno of the failed step */
    char message[320];   /* the failed step, for the user */
    int workers;         /* tasks the helper frees with (itself and its workers) */
    char note[320];      /* on success, what the user should know (fewer workers, and why); or empty */
};

/* Gives the running process `pid` a teardown helper: stops one of its threads with
 * PTRACE_SEIZE + PTRACE_INTERRUPT, makes it map a page for `block` (the helper's body, linked
 * position-independent, cleave_helper_main at `entry`) and a guarded stack, clone(CLONE_VM) a
 * child that runs it, waits until the helper has confined itself, restores the thread's
 * registers (an interrupted system call restarts as the kernel would restart it) and detaches.
 * Returns 0, or -1 with `out` saying why; the target is then left as it was (its helper page
 * unmapped, its descriptors closed), or `out->refused` is 1 when nothing was touched. */
int cleave_inject_helper(pid_t pid, const unsigned char *block, size_t block_len, size_t entry,
                         struct cleave_inject_result *out);

/* The same, the helper freeing with `workers` tasks (1 to 64; 0: CLEAVE_TEARDOWN_WORKERS in the
 * target's environment, else the CPUs its cgroup may use, as the preloaded library decides). */
int cleave_inject_helper_workers(pid_t pid, const unsigned char *block, size_t block_len, size_t entry, int workers,
                                 struct cleave_inject_result *out);

/* For `cleave run`: seizes `pid`, a child of the caller held before its execve, with
 * PTRACE_O_TRACEEXEC. 0 or -errno. */
int cleave_inject_seize_for_exec(pid_t pid);

/* Once the seized child is released: waits for its exec stop (it has run no instruction of
 * the new program) and injects the helper there as cleave_inject_helper does, then detaches.
 * If the child exits first (its execve failed) it is not reaped: -1 with out->error ECHILD. */
int cleave_inject_helper_at_exec(pid_t pid, const unsigned char *block, size_t block_len, size_t entry,
                                 struct cleave_inject_result *out);
int cleave_inject_helper_at_exec_workers(pid_t pid, const unsigned char *block, size_t block_len, size_t entry, int workers,
                                         struct cleave_inject_result *out);

/* For tests of the seccomp check: every value the cBPF program `insns` (`count`
 * instructions) can return for system call `nr` of this architecture, args[i] known when bit i
 * of `known_args` is set (the instruction pointer unknown). Fills up to 8 values in `rets`,
 * returns their number, or -1 (an instruction seccomp does not run, a jump out of the program),
 * -2 (more than 8 values), -3 (RET A of an unknown value), -4 (no memory). */
int cleave_seccomp_evaluate(const struct sock_filter *insns, size_t count, int nr, const unsigned long long args[6], unsigned known_args,
                            unsigned int rets[8]);

#endif
