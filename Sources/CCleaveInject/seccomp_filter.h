/* The target's seccomp filters, read before anything is changed in it, and whether they let
 * through every system call the injection, the helper and its workers make (seccomp_filter.c). */
#ifndef CLEAVE_SECCOMP_FILTER_H
#define CLEAVE_SECCOMP_FILTER_H

#include <stddef.h>
#include <sys/types.h>

#include "cleave_inject.h"

/* What the injection will do, as far as a filter can see it: the sizes in its calls, and
 * whether the helper frees with workers. */
struct inject_plan {
    unsigned long total;    /* the one mapping: code, guard, stack, data, release region */
    unsigned long code_len; /* made r-x */
    unsigned long rw_len;   /* stack, data page and release region, made rw- */
    int workers;            /* > 1: the release's calls too */
    unsigned int drop_uid, drop_gid;
};

struct inject_filters;

/* Reads the filters of thread `tid` (stopped by our ptrace) with PTRACE_SECCOMP_GET_FILTER,
 * and its capabilities (the helper's confinement depends on them). 0 and *filters (NULL: no
 * filter), or -1 with `out` filled (refused): strict mode, or filters that cannot be read. */
int inject_read_filters(pid_t pid, pid_t tid, struct inject_filters **filters, struct cleave_inject_result *out);

/* Whether every call of `plan` passes: each result ALLOW or LOG, or an error the code handles
 * (a fallback it then takes, also checked). 1 yes; 0 no, `why` naming the call and the action;
 * -1 a filter cannot be evaluated (`why` says). NULL filters: 1. */
int inject_filters_pass(const struct inject_filters *filters, const struct inject_plan *plan, char *why, size_t why_size);

void inject_filters_free(struct inject_filters *filters);

#endif
