#include <sys/vfs.h>

#include "cleave_filesystem.h"

int cleave_filesystem_type(const char *path, long *type) {
    struct statfs buffer;
    if (statfs(path, &buffer) != 0) return -1;
    *type = (long)buffer.f_type;
    return 0;
}
