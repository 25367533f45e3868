/* Looks at a process through /proc before anything touches it: what `cleave attach` refuses. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleave_contract.h"
#include "inject_internal.h"

#define PF_KTHREAD 0x00200000

int inject_fail(struct cleave_inject_result *out, int refused, int err, const char *fmt, ...) {
    out->refused = refused;
    out->error = err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof out->message, fmt, ap);
    va_end(ap);
    return -1;
}

static ssize_t read_text(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    size_t used = 0;
    while (used + 1 < size) {
        ssize_t n = read(fd, buf + used, size - 1 - used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            close(fd);
            return -err;
        }
        if (n == 0) break;
        used += (size_t)n;
    }
    close(fd);
    buf[used] = 0;
    return (ssize_t)used;
}

/* State letter and flags of /proc/<pid>[/task/<tid>]/stat: past the last ')' of the name. */
static int stat_state(const char *path, char *state, unsigned long *flags) {
    char buf[1024];
    if (read_text(path, buf, sizeof buf) < 0) return -1;
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    int ppid, pgrp, session, tty, tpgid;
    if (sscanf(p + 1, " %c %d %d %d %d %d %lu", state, &ppid, &pgrp, &session, &tty, &tpgid, flags) != 7) return -1;
    return 0;
}

static long status_field(const char *status, const char *name) {
    const char *p = strstr(status, name);
    if (!p) return -1;
    return strtol(p + strlen(name), NULL, 10);
}

int inject_check_target(pid_t pid, pid_t *tid, struct cleave_inject_result *out) {
    char path[96], status[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    ssize_t n = read_text(path, status, sizeof status);
    if (n < 0) return inject_fail(out, 1, (int)-n, "no process %d (%s: %s)", (int)pid, path, strerror((int)-n));
    long tgid = status_field(status, "\nTgid:");
    if (tgid != pid) return inject_fail(out, 1, ESRCH, "%d is a thread of process %ld, not a process", (int)pid, tgid);
    char state;
    unsigned long flags;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (stat_state(path, &state, &flags) != 0) return inject_fail(out, 1, ESRCH, "cannot read %s", path);
    if (flags & PF_KTHREAD) return inject_fail(out, 1, EPERM, "process %d is a kernel thread", (int)pid);
    long tracer = status_field(status, "\nTracerPid:");
    if (tracer != 0) return inject_fail(out, 1, EBUSY, "process %d is already traced (by %ld)", (int)pid, tracer);
    pid_t helper = inject_existing_helper(pid);
    if (helper > 0) return inject_fail(out, 1, EEXIST, "process %d already has a teardown helper (%d)", (int)pid, (int)helper);

    /* One live thread: the leader, unless it has exited (a zombie leader with live threads). */
    if (state != 'Z' && state != 'X') {
        *tid = pid;
        return 0;
    }
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *dir = opendir(path);
    if (dir) {
        struct dirent *d;
        while ((d = readdir(dir))) {
            pid_t t = (pid_t)atoi(d->d_name);
            if (t <= 0) continue;
            char tpath[128];
            snprintf(tpath, sizeof tpath, "/proc/%d/task/%d/stat", (int)pid, (int)t);
            if (stat_state(tpath, &state, &flags) == 0 && state != 'Z' && state != 'X') {
                closedir(dir);
                *tid = t;
                return 0;
            }
        }
        closedir(dir);
    }
    return inject_fail(out, 1, ESRCH, "process %d is a zombie", (int)pid);
}

static int comm_is(pid_t pid, const char *name, size_t len) {
    char path[64], comm[32];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    if (read_text(path, comm, sizeof comm) <= 0) return 0;
    comm[strcspn(comm, "\n")] = 0;
    return len ? strncmp(comm, name, len) == 0 : strcmp(comm, name) == 0;
}

static pid_t scan_children(pid_t pid, pid_t only_tid, const char *name, size_t prefix_len) {
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *dir = opendir(path);
    if (!dir) return 0;
    pid_t found = 0;
    struct dirent *d;
    while (!found && (d = readdir(dir))) {
        pid_t t = (pid_t)atoi(d->d_name);
        if (t <= 0 || (only_tid > 0 && t != only_tid)) continue;
        char cpath[128], list[4096];
        snprintf(cpath, sizeof cpath, "/proc/%d/task/%d/children", (int)pid, (int)t);
        if (read_text(cpath, list, sizeof list) <= 0) continue;
        for (char *s = list, *end; *s && !found; s = end) {
            long child = strtol(s, &end, 10);
            if (end == s) break;
            if (child > 0 && comm_is((pid_t)child, name, prefix_len)) found = (pid_t)child;
        }
    }
    closedir(dir);
    return found;
}

pid_t inject_find_child(pid_t pid, pid_t tid, const char *name) { return scan_children(pid, tid, name, 0); }

pid_t inject_existing_helper(pid_t pid) {
    return scan_children(pid, 0, CLEAVE_HELPER_NAME_PREFIX, sizeof CLEAVE_HELPER_NAME_PREFIX - 1);
}

int inject_vdso_range(pid_t pid, unsigned long *start, unsigned long *end) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f) return -1;
    char line[512];
    int found = -1;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "[vdso]") && sscanf(line, "%lx-%lx", start, end) == 2) {
            found = 0;
            break;
        }
    }
    fclose(f);
    return found;
}
