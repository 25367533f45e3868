#ifndef CLEAVE_INJECT_INTERNAL_H
#define CLEAVE_INJECT_INTERNAL_H

#include <stdarg.h>
#include <sys/types.h>

#include "cleave_inject.h"

/* Checks that refuse a target before it is touched (inject_target.c). Each fills `out` and
 * returns -1 when the target must be refused. */
int inject_check_target(pid_t pid, pid_t *tid, struct cleave_inject_result *out);

/* The first child of thread `tid` of `pid` whose name is `name`, or 0. */
pid_t inject_find_child(pid_t pid, pid_t tid, const char *name);

/* Whether `pid` has a child named cleanup/<something> (a helper, preloaded or injected). */
pid_t inject_existing_helper(pid_t pid);

/* Start and end of the target's [vdso] mapping, or -1. */
int inject_vdso_range(pid_t pid, unsigned long *start, unsigned long *end);

int inject_fail(struct cleave_inject_result *out, int refused, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
