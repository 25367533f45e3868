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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleave_contract.h"
#include "cleave_syscalls.h"
#include "helper_internal.h"


static void reap_if_ours(pid_t child, const char *expected) {
    char path[64], comm[32];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)child);
    if (cleave_read_text(path, comm, sizeof comm) <= 0) return;
    comm[strcspn(comm, "\n")] = 0;
    if (strcmp(comm, expected) != 0) return;
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
    if (waitid(P_PID, (id_t)child, &info, WEXITED | WNOHANG | __WALL) != 0) return;
}

void cleave_reap_previous_helpers(pid_t self) {
    char expected[16];
    snprintf(expected, sizeof expected, CLEAVE_HELPER_NAME_PREFIX "%d", (int)self);
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks) return;
    struct dirent *t;
    while ((t = readdir(tasks)) != NULL) {
        if (t->d_name[0] == '.') continue;
        char path[300], list[4096];
        snprintf(path, sizeof path, "/proc/self/task/%s/children", t->d_name);
        if (cleave_read_text(path, list, sizeof list) <= 0) continue;
        char *save = NULL;
        for (char *tok = strtok_r(list, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
            reap_if_ours((pid_t)atoi(tok), expected);
        }
    }
    closedir(tasks);
}
