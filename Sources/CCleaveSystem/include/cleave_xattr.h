#ifndef CLEAVE_XATTR_H
#define CLEAVE_XATTR_H

#include <stddef.h>
#include <sys/types.h>

/* Calls cleave needs to prove what it owns, which Swift's Glibc module does
 * not import: extended attributes (cgroupfs keeps trusted.* and, since 5.7,
 * user.* on cgroup directories). */

enum { CLEAVE_XATTR_CREATE = 1, CLEAVE_XATTR_REPLACE = 2 };

/* lsetxattr/lgetxattr/lremovexattr(2): 0 (or the size) or -1 with errno. */
int cleave_setxattr(const char *path, const char *name, const void *value, size_t size, int flags);
ssize_t cleave_getxattr(const char *path, const char *name, void *value, size_t size);
int cleave_removexattr(const char *path, const char *name);

#endif
