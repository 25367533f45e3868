/* After exec the process has a new address space; the helper of the old
 * image still holds the old one. Retire it so helpers never pile up: it
 * frees the (small) pre-exec image and is reaped here. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper_internal.h"

static int read_small(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0) return -1;
    buf[n] = 0;
    return (int)n;
}

static void retire_if_ours(pid_t child, const char *expected) {
    char path[64], comm[32];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)child);
    if (read_small(path, comm, sizeof comm) <= 0) return;
    comm[strcspn(comm, "\n")] = 0;
    if (strcmp(comm, expected) != 0) return;
    if (kill(child, CLEAVE_SIG_RETIRE) != 0) return;
    int status;
    /* The helper was cloned with exit signal 0: only __WCLONE waits for it. */
    while (waitpid(child, &status, __WCLONE) < 0 && errno == EINTR) {}
}

void cleave_retire_previous_helpers(pid_t self) {
    char expected[16];
    snprintf(expected, sizeof expected, "cleanup/%d", (int)self);
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks) return;
    struct dirent *t;
    while ((t = readdir(tasks)) != NULL) {
        if (t->d_name[0] == '.') continue;
        char path[300], list[4096];
        snprintf(path, sizeof path, "/proc/self/task/%s/children", t->d_name);
        if (read_small(path, list, sizeof list) <= 0) continue;
        for (char *tok = strtok(list, " \n"); tok; tok = strtok(NULL, " \n")) {
            retire_if_ours((pid_t)atoi(tok), expected);
        }
    }
    closedir(tasks);
}
