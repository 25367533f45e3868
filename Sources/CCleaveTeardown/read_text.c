/* Parent side (ordinary libc, before the clone): small text files of /proc and
 * cgroupfs, read whole into a caller's buffer. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>

#include "helper_internal.h"

int cleave_read_text(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0) return -1;
    buf[n] = 0;
    return (int)n;
}
