#ifndef CLEAVE_TEARDOWN_H
#define CLEAVE_TEARDOWN_H

#include <sys/types.h>

#define CLEAVE_EXPORT __attribute__((visibility("default")))

/* How many tasks free the address space once the process is gone (the helper
 * and its workers, 1 to 64). 1: the helper leaves it to exit_mmap() on one
 * CPU. Unset: the CPUs the process's cgroup may use (affinity, cpu.max), at
 * most 16. `cleave run --teardown-workers N` sets it for the workload. */
#define CLEAVE_TEARDOWN_WORKERS_ENV "CLEAVE_TEARDOWN_WORKERS"

/* Starts the asynchronous-teardown helper for the calling process: a
 * CLONE_VM child named cleanup/<pid> that holds the address space and frees
 * it after the whole process has exited, so the process is reaped at once.
 * Before this returns the helper has confined itself (no privilege, no
 * capabilities, no_new_privs, a seccomp allow-list of its few system calls).
 * The process keeps one more descriptor: the O_CLOEXEC write end of the
 * helper's exec pipe (its exec or exit tells the helper to go).
 *
 * Returns the helper's pid, 0 when skipped on purpose (CLEAVE_TEARDOWN=off;
 * CLEAVE_TEARDOWN_PID names another process and this is not that process's
 * child running as another user; CLEAVE_TEARDOWN_INHERIT is not 1), or
 * -errno when the helper could not be created or confined; then one warning
 * line goes to stderr and the process carries on with an ordinary,
 * synchronous teardown. Idempotent within a process image; the helper of a
 * previous image leaves by itself at exec. Never changes the environment. */
CLEAVE_EXPORT int cleave_teardown_init(void);

/* The current helper's pid, or 0. */
CLEAVE_EXPORT pid_t cleave_teardown_helper_pid(void);

#endif
