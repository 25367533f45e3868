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

/* How many tasks the injected helper frees with (inject_release.c): `requested` (1 to 64), else
 * CLEAVE_TEARDOWN_WORKERS of the target's environment, else the preloaded library's default
 * from the thread's affinity and its cgroup's cpu.max. A bad environment value gives 1 and a note. */
int inject_worker_count(pid_t pid, pid_t tid, int requested, char *note, size_t note_size);

/* cgroup.procs of the target's cgroup as the target sees it (for an openat in it) and as
 * cleave does (to check that the target opened that file). 0, or -1. */
int inject_procs_paths(pid_t pid, char *target_view, size_t tsize, char *own_view, size_t osize);

int inject_fail(struct cleave_inject_result *out, int refused, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
