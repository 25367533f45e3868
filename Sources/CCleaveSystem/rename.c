#define _GNU_SOURCE
#include <linux/fs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleave_rename.h"

int cleave_rename_exchange(int dirfd, const char *from, const char *to) {
    return (int)syscall(SYS_renameat2, dirfd, from, dirfd, to, RENAME_EXCHANGE);
}
