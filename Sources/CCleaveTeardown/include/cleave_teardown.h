#ifndef CLEAVE_TEARDOWN_H
#define CLEAVE_TEARDOWN_H

#include <sys/types.h>

#define CLEAVE_EXPORT __attribute__((visibility("default")))

/* Starts the asynchronous-teardown helper for the calling process: a
 * CLONE_VM child named cleanup/<pid> that holds the address space and frees
 * it after the whole process has exited, so the process is reaped at once.
 *
 * Returns the helper's pid, 0 when skipped on purpose (CLEAVE_TEARDOWN=off,
 * or this pid is not the one CLEAVE_TEARDOWN_PID names and
 * CLEAVE_TEARDOWN_INHERIT is not 1), or -errno when the helper could not be
 * created; then one warning line goes to stderr and the process carries on
 * with an ordinary, synchronous teardown. Idempotent within a process image;
 * a new image (after exec) retires the helper of the previous one. */
CLEAVE_EXPORT int cleave_teardown_init(void);

/* The current helper's pid, or 0. */
CLEAVE_EXPORT pid_t cleave_teardown_helper_pid(void);

#endif
