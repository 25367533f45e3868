#ifndef CLEAVE_FILESYSTEM_H
#define CLEAVE_FILESYSTEM_H

/* statfs(2)'s f_type for `path`: Swift cannot call statfs, which the struct of the
 * same name hides. 0, or -1 with errno. */
int cleave_filesystem_type(const char *path, long *type);

#endif
