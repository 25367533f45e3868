#ifndef CLEAVE_HELPER_CONFINE_H
#define CLEAVE_HELPER_CONFINE_H

#include "helper_internal.h"

/* In the helper, right after clone. When it holds privilege: no supplementary
 * groups, the given gid and uid, an empty bounding set, no capabilities; in
 * every case no core dump and no_new_privs. Returns 0, or -errno with *step
 * set to the cleave_helper_step that failed. */
int cleave_helper_confine(unsigned int drop_uid, unsigned int drop_gid, int *step);

/* The seccomp allow-list of the helper's remaining system calls; with
 * parallel_release, also those of the parallel release (clone of a worker,
 * MADV_DONTNEED, wait4). */
int cleave_helper_install_filter(int parallel_release, int *step);

#endif
