#ifndef CLEAVE_HELPER_INTERNAL_H
#define CLEAVE_HELPER_INTERNAL_H

#include <sys/types.h>

/* The parent-death signal, used only when pidfd_open is missing (Linux < 5.3).
 * A real-time signal nobody sends by accident; a number, because SIGRTMAX is
 * a libc call. The helper blocks every signal and reads it from a signalfd,
 * so no handler ever runs on its stack. */
#define CLEAVE_SIG_PDEATH 62

/* The set-up handshake (helper -> parent), in `state`. The parent waits on it
 * with a futex; the helper is cloned with CLONE_CHILD_CLEARTID on it, so the
 * kernel writes CLEAVE_HELPER_GONE and wakes the parent if the helper dies
 * before it could answer. */
#define CLEAVE_HELPER_GONE 0
#define CLEAVE_HELPER_PENDING 1
#define CLEAVE_HELPER_READY 2  /* privileges dropped, filter installed, waiting */
#define CLEAVE_HELPER_FAILED 3 /* failed_step and failed_errno say why; it exits */

/* The parallel release (release_workers.c): set up by the parent before the
 * clone (release_setup.c), used by the helper once the parent is gone. */
struct cleave_release_args {
    int workers;           /* freeing tasks, the helper included; 1: exit_mmap() alone, as before */
    int procs_fd;          /* cgroup.procs of the helper's cgroup, or -1 */
    unsigned long region;  /* range table, boundaries, jobs, then a guard page and stack per worker */
    unsigned long region_size;
    unsigned long page;
    unsigned long helper_stack; /* the helper's own stack mapping, guard page included */
    unsigned long helper_stack_size;
};

/* struct timespec and struct pollfd for raw nanosleep, poll and ppoll calls,
 * without libc's headers. */
struct helper_timespec {
    long tv_sec, tv_nsec;
};

struct helper_pollfd {
    int fd;
    short events, revents;
};

/* The helper's slice (see lengthen_slice in helper_main.c): EEVDF's longest. */
#define CLEAVE_HELPER_SLICE_NS 100000000ULL

struct cleave_helper_args {
    int parent_tgid;
    int parent_pidfd;    /* readable once the whole parent thread group has exited; -1: fall back to PDEATHSIG */
    int exec_pipe;       /* read end; the write end is O_CLOEXEC in the parent: EOF at its exec or exit */
    int parent_statm;    /* /proc/<parent>/statm, to tell an exec from a stray close; -1 if unavailable */
    unsigned int drop_uid, drop_gid; /* the overflow ids, for a helper that holds privilege */
    char name[16];       /* "cleanup/<pid>", the 15-byte comm limit */
    struct cleave_release_args release; /* the parallel release; workers 1: none */
    unsigned long long slice_ns; /* the helper's EEVDF slice (sched_attr.sched_runtime); 0: left as inherited */
    volatile int state;  /* CLEAVE_HELPER_* */
    volatile int failed_step;
    volatile int failed_errno;
};

/* Steps the helper reports when one fails (the parent names them in its warning). */
enum cleave_helper_step {
    CLEAVE_STEP_NONE = 0,
    CLEAVE_STEP_RLIMIT_CORE,
    CLEAVE_STEP_CAPGET,
    CLEAVE_STEP_CAPSET,
    CLEAVE_STEP_SETGROUPS,
    CLEAVE_STEP_SETRESGID,
    CLEAVE_STEP_CAPBSET_DROP,
    CLEAVE_STEP_SETRESUID,
    CLEAVE_STEP_CAPS_LEFT,
    CLEAVE_STEP_DUMPABLE,
    CLEAVE_STEP_NO_NEW_PRIVS,
    CLEAVE_STEP_PDEATHSIG,
    CLEAVE_STEP_SECCOMP,
    CLEAVE_STEP_PARENT_GONE,
};

const char *cleave_helper_step_name(int step);

int cleave_helper_main(void *arg);

/* clone(flags) onto a stack of our own, then fn(arg) and exit with its
 * result: the child cannot return into a C frame of the caller's stack.
 * Returns the child's pid or -errno; touches no libc state. */
long cleave_release_clone(unsigned long flags, void *stack_top, int (*fn)(void *), void *arg);

/* Parent side (release_setup.c): the number of freeing tasks for this process
 * (CLEAVE_TEARDOWN_WORKERS, else the CPUs its cgroup may use), and the
 * descriptors and memory the helper needs for them. 1 leaves the release to
 * exit_mmap() alone. */
/* Parent side: a small text file read whole and NUL-terminated; its length, or -1. */
int cleave_read_text(const char *path, char *buf, size_t size);

/* `cgroup_dir` (at least 4200 bytes) gets this process's cgroup directory when the count
 * needed it, else "": cleave_release_prepare takes it instead of reading it again. */
int cleave_release_worker_count(char *cgroup_dir, size_t size);
/* The rule behind it, for a process seen from outside too (the injection): a
 * CLEAVE_TEARDOWN_WORKERS value (1 to 64, else -1), and the default from the CPUs
 * of the affinity mask and cpu.max of `cgroup_dir` and its ancestors (NULL: none),
 * at most CLEAVE_RELEASE_DEFAULT_MAX_WORKERS. */
int cleave_release_parse_workers(const char *value);
int cleave_release_default_workers(long cpus, const char *cgroup_dir);
/* The cgroup v2 directory of the process whose /proc/<pid>/cgroup is `proc_cgroup`,
 * as this process sees it. 0, or -1. */
int cleave_release_cgroup_dir(const char *proc_cgroup, char *out, size_t size);
void cleave_release_prepare(struct cleave_release_args *release, int workers, const char *cgroup_dir,
                            unsigned long helper_stack, unsigned long helper_stack_size);
/* Undoes cleave_release_prepare when the helper could not start. */
void cleave_release_discard(struct cleave_release_args *release);

/* Helper side (release_workers.c), once the parent is gone: frees the private
 * anonymous memory with release->workers tasks, returns when all are done.
 * maps_fd, statm_fd: the helper's /proc/self/maps and statm, opened before confinement. */
void cleave_release_parallel(const struct cleave_release_args *release, int maps_fd, int statm_fd, int self_pid);

/* Calls visit(child, context) for each child of this process's threads named
 * cleanup/<self>, until one returns nonzero; returns that value (0: none did). */
int cleave_each_helper_child(pid_t self, int (*visit)(pid_t child, void *context), void *context);

/* Reaps helpers of earlier images of this process (children named
 * cleanup/<self>) that have already exited; they leave on their own at exec. */
void cleave_reap_previous_helpers(pid_t self);

#endif
