#ifndef CLEAVE_OWNERSHIP_H
#define CLEAVE_OWNERSHIP_H

#include <spawn.h>
#include <stddef.h>
#include <sys/types.h>

/* Calls cleave needs to prove what it owns, which Swift's Glibc module does
 * not import: extended attributes (cgroupfs keeps trusted.* and, since 5.7,
 * user.* on cgroup directories) and closefrom for detached children. */

enum { CLEAVE_XATTR_CREATE = 1, CLEAVE_XATTR_REPLACE = 2 };

/* lsetxattr/lgetxattr/lremovexattr(2): 0 (or the size) or -1 with errno. */
int cleave_setxattr(const char *path, const char *name, const void *value, size_t size, int flags);
ssize_t cleave_getxattr(const char *path, const char *name, void *value, size_t size);
int cleave_removexattr(const char *path, const char *name);

/* posix_spawn_file_actions_addclosefrom_np (glibc 2.34): the child closes
 * every descriptor from `lowfd` up before exec. 0 or an error number. */
int cleave_spawn_add_closefrom(posix_spawn_file_actions_t *actions, int lowfd);

#endif
