/* After exec the process has a new address space; the helper of the old
 * image still held the old one. It needs no signal to go (a signal from an
 * image that dropped privileges would be refused): the exec closed its pipe,
 * and it frees the old image and exits on its own. Its exit signal is 0, but
 * the kernel turns it into SIGCHLD because its parent exec'd, and only a wait
 * with __WCLONE or __WALL matches it: reap it here, so it does not stay a
 * zombie of the new image. One still freeing after 100 ms stays a zombie (no
 * memory, not counted in cgroup.events' populated) until the next image or
 * the process's end; so does one whose new image has no preload. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleave_syscalls.h"
#include "helper_internal.h"


/* Gives a helper of an earlier image a moment to finish, then reaps it. */
static int reap(pid_t child, void *context) {
    (void)context;
    /* It leaves at the exec (the pipe's EOF): give it a moment to finish, so
     * it is reaped here rather than left a zombie. An old image that is big
     * takes longer to free; 100 ms bounds what this image pays for it. */
    int pidfd = (int)syscall(__NR_pidfd_open, child, 0);
    if (pidfd >= 0) {
        struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
        while (poll(&pfd, 1, 100) < 0 && errno == EINTR) {}
        close(pidfd);
    }
    siginfo_t info;
    memset(&info, 0, sizeof info);
    waitid(P_PID, (id_t)child, &info, WEXITED | WNOHANG | __WALL);
    return 0; /* on to the next */
}

void cleave_reap_previous_helpers(pid_t self) {
    /* Most images are their process's first and have no child at all: one waitid
     * (reaping nothing: WNOWAIT) says so without reading /proc. */
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT | __WALL) != 0 && errno == ECHILD) return;
    cleave_each_helper_child(self, reap, NULL);
}
