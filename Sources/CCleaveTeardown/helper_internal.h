#ifndef CLEAVE_HELPER_INTERNAL_H
#define CLEAVE_HELPER_INTERNAL_H

#include <sys/types.h>

/* Signals the helper waits for (it blocks everything, so no handler ever
 * runs on its stack). Real-time signals nobody sends by accident; SIGHUP or
 * SIGTERM would let a terminal hang-up or a group-wide SIGTERM end the helper
 * while the workload still runs. Numbers, because SIGRTMAX is a libc call. */
#define CLEAVE_SIG_PDEATH 62 /* parent thread died: look whether the whole group is gone */
#define CLEAVE_SIG_RETIRE 61 /* the workload exec'd a new image: free the old one and go */

struct cleave_helper_args {
    int parent_tgid;
    char name[16]; /* "cleanup/<pid>", the 15-byte comm limit */
};

int cleave_helper_main(void *arg);

/* Retires helpers of earlier images of this process (named cleanup/<self>). */
void cleave_retire_previous_helpers(pid_t self);

#endif
