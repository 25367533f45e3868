#ifndef CLEAVE_SPAWN_INTERNAL_H
#define CLEAVE_SPAWN_INTERNAL_H

#include <sys/capability.h>
#include <sys/types.h>
#include "cleave_spawn.h"

/* What the parent prepares so the child never allocates: after a raw clone3
 * no atfork handler ran, and malloc's locks may be held by another thread. */
struct child_plan {
    const struct cleave_spawn_request *req;
    char **envp;          /* req->envp plus the pid variable */
    char *pid_slot;       /* "<pid_env>=" followed by room for digits */
    size_t pid_prefix_len;
    cap_t caps;           /* effective/permitted/inheritable, or NULL */
    int error_fd;         /* write end of the close-on-exec report pipe */
    int release_fd;       /* fork fallback: read end the parent writes to; -1 otherwise */
    int start_fd;         /* hold_before_exec: read end; the child reads one byte before execve */
    int start_write_fd;   /* its write end, which the child closes so that EOF can reach it */
};

/* The failure a child reports over error_fd. */
struct child_report {
    int err;              /* 0 with step "ready": a held child finished its set-up */
    char step[28];
};

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* Runs in the child; never returns. */
void cleave_child_exec(const struct child_plan *plan) __attribute__((noreturn));

/* clone3(CLONE_VM | CLONE_VFORK) into the cgroup, running cleave_child_exec(plan) on a stack
 * of its own; returns when the child has exec'd or exited. The pid, or -1 with errno (ENOSYS
 * where it is not built: x86_64 only). */
pid_t cleave_clone3_vfork(int cgroup_fd, int *pidfd, const struct child_plan *plan);

#endif
