#ifndef CLEAVE_FDPASS_H
#define CLEAVE_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

/* A descriptor handed from one process to another over a unix socket (SCM_RIGHTS):
 * `cleave run` gives the run's lock to its standby teardown watcher at the exit. */

/* socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC): 0 or -1 with errno. */
int cleave_seqpacket_pair(int fds[2]);

/* Sends `len` bytes with `fd` attached (fd < 0: none), MSG_NOSIGNAL (a peer that is
 * gone gives EPIPE, not SIGPIPE). The bytes sent, or -1 with errno. */
ssize_t cleave_send_with_fd(int sock, const void *buf, size_t len, int fd);

/* Receives one message into `buf` (at most `len` bytes); `*fd` is the attached descriptor
 * (close-on-exec) or -1. The bytes received (0: the peer closed), or -1 with errno. */
ssize_t cleave_recv_with_fd(int sock, void *buf, size_t len, int *fd);

#endif
