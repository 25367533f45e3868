/* Parent side (ordinary libc): this process's children that are teardown
 * helpers of it, i.e. named cleanup/<self>: those of earlier images (after an
 * exec) and one that `cleave run` injected at exec. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave_contract.h"
#include "helper_internal.h"

int cleave_each_helper_child(pid_t self, int (*visit)(pid_t child, void *context), void *context) {
    char expected[32];
    snprintf(expected, sizeof expected, CLEAVE_HELPER_NAME_PREFIX "%d", (int)self);
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks) return 0;
    int stop = 0;
    struct dirent *t;
    while (!stop && (t = readdir(tasks)) != NULL) {
        if (t->d_name[0] == '.') continue;
        char path[300], list[4096];
        snprintf(path, sizeof path, "/proc/self/task/%s/children", t->d_name);
        if (cleave_read_text(path, list, sizeof list) <= 0) continue;
        char *save = NULL;
        for (char *tok = strtok_r(list, " \n", &save); tok && !stop; tok = strtok_r(NULL, " \n", &save)) {
            char comm_path[64], comm[32];
            snprintf(comm_path, sizeof comm_path, "/proc/%s/comm", tok);
            if (cleave_read_text(comm_path, comm, sizeof comm) <= 0) continue;
            comm[strcspn(comm, "\n")] = 0;
            if (strcmp(comm, expected) == 0) stop = visit((pid_t)atoi(tok), context);
        }
    }
    closedir(tasks);
    return stop;
}
