#ifndef CLEAVE_SPAWN_H
#define CLEAVE_SPAWN_H

/* Starting a workload atomically inside a cgroup. Everything between clone
 * and exec happens in C, in this target; the Swift side only prepares the
 * request and reads the result. */

#include "cleave_process.h"

struct cleave_rlimit {
    int resource;
    unsigned long long soft, hard;
};

/* Bit n of each mask is capability n. */
struct cleave_caps {
    int set;
    unsigned long long bounding, effective, permitted, inheritable, ambient;
};

struct cleave_spawn_request {
    const char *path;          /* absolute or relative path: no PATH search here */
    char *const *argv;
    char *const *envp;
    int cgroup_fd;             /* O_DIRECTORY fd of the target cgroup, or -1 */
    const char *cgroup_procs;  /* "<cgroup>/cgroup.procs" for the fork fallback, or NULL */
    const char *cwd;           /* NULL: inherit */
    int set_user;
    unsigned uid, gid;
    const unsigned *groups;
    int ngroups;
    int umask;                 /* -1: leave */
    int no_new_privs;
    int set_oom_score_adj;
    int oom_score_adj;
    const struct cleave_rlimit *rlimits;
    int nrlimits;
    const struct cleave_caps *caps; /* NULL: as inherited */
    const char *pid_env;       /* the child adds "<pid_env>=<its pid>" to its environment */
    int force_fallback;        /* skip clone3: fork, write cgroup.procs, then release the child */
    int stdout_fd;             /* becomes the child's fd 1; -1: inherit */
    int hold_before_exec;      /* set up, then wait for cleave_spawn_release() before execve */
};

struct cleave_spawn_result {
    int pid;
    int pidfd;
    int used_clone3;
    int failed_errno;
    const char *failed_step;   /* static string naming the step that failed */
    int start_fd;              /* held child: write end of its start pipe, else -1 */
    int report_fd;             /* held child: read end of its report pipe, else -1 */
};

/* 0 on success; -1 with failed_step/failed_errno set (the child, if any, is reaped). */
int cleave_spawn(const struct cleave_spawn_request *req, struct cleave_spawn_result *res);

/* Lets a held child (hold_before_exec) exec and learns whether execve worked:
 * 0, or -1 with failed_step/failed_errno set and the child reaped. Closes
 * start_fd and report_fd either way. */
int cleave_spawn_release(struct cleave_spawn_result *res);

/* Lets a held child exec without waiting to learn whether it did (a tracer waits for its
 * exec stop first); cleave_spawn_release then only reads the report. 0 or -errno. */
int cleave_spawn_start(struct cleave_spawn_result *res);

/* Abandons a held child: closing its start pipe makes it exit 127 without
 * exec; the caller still reaps it. */
void cleave_spawn_abandon(struct cleave_spawn_result *res);

#endif
