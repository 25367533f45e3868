#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleave_process.h"

int cleave_signalfd(const int *signals, int count) {
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < count; i++) sigaddset(&set, signals[i]);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) return -1;
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int cleave_signalfd_read(int fd, int *signo, int *from_kernel, int *sender_pid) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof info);
    if (n < 0) return errno == EAGAIN ? 0 : -1;
    if (n != (ssize_t)sizeof info) return 0;
    *signo = (int)info.ssi_signo;
    *from_kernel = info.ssi_code == SI_KERNEL;
    *sender_pid = (int)info.ssi_pid;
    return 1;
}

int cleave_set_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

int cleave_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int cleave_pidfd_open(int pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}
