#define _GNU_SOURCE
#include "cleave_ownership.h"

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

int cleave_spawn_add_closefrom(posix_spawn_file_actions_t *actions, int lowfd) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return posix_spawn_file_actions_addclosefrom_np(actions, lowfd);
#else
    (void)actions; (void)lowfd;
    return ENOSYS;
#endif
}
