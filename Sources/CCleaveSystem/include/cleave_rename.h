#ifndef CLEAVE_RENAME_H
#define CLEAVE_RENAME_H

/* renameat2(dirfd, from, dirfd, to, RENAME_EXCHANGE): swaps two names of one directory
 * atomically. 0, or -1 with errno (ENOENT: `to` does not exist; EINVAL: the file system
 * cannot exchange). */
int cleave_rename_exchange(int dirfd, const char *from, const char *to);

#endif
