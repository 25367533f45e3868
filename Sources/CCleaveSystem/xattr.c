#define _GNU_SOURCE
#include "cleave_xattr.h"

#include <errno.h>
#include <sys/xattr.h>

int cleave_setxattr(const char *path, const char *name, const void *value, size_t size, int flags) {
    return lsetxattr(path, name, value, size, flags);
}

ssize_t cleave_getxattr(const char *path, const char *name, void *value, size_t size) {
    return lgetxattr(path, name, value, size);
}

int cleave_removexattr(const char *path, const char *name) {
    return lremovexattr(path, name);
}
