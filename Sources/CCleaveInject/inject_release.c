/* The parallel release for an injected helper, decided from outside the target as the
 * preloaded library decides it from inside (release_setup.c): how many tasks free the memory,
 * and the cgroup.procs the helper reads to know it is alone. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../CCleaveTeardown/helper_internal.h"
#include "../CCleaveTeardown/release_layout.h"
#include "cleave_contract.h"
#include "inject_internal.h"

/* CLEAVE_TEARDOWN_WORKERS in the process's environment (its initial one, /proc/<pid>/environ,
 * which is where the preloaded library reads it from too): its text in `value`, 1 if found. */
static int environ_workers(pid_t pid, char *value, size_t size) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f) return 0;
    static const char key[] = CLEAVE_ENV_TEARDOWN_WORKERS "=";
    char entry[sizeof key + 32];
    size_t used = 0;
    int found = 0, c, overflow = 0;
    /* Entry by entry (NUL-separated), keeping only as much of each as the key and a number need. */
    while ((c = getc(f)) != EOF) {
        if (c != 0) {
            if (used + 1 < sizeof entry) entry[used++] = (char)c;
            else overflow = 1;
            continue;
        }
        entry[used] = 0;
        if (!strncmp(entry, key, sizeof key - 1)) {
            snprintf(value, size, "%s", overflow ? "(too long)" : entry + sizeof key - 1);
            found = 1; /* the first, as getenv finds it */
            break;
        }
        used = 0;
        overflow = 0;
    }
    fclose(f);
    return found;
}

int inject_worker_count(pid_t pid, pid_t tid, int requested, char *note, size_t note_size) {
    if (requested >= 1 && requested <= CLEAVE_RELEASE_MAX_WORKERS) return requested;
    char value[48];
    if (environ_workers(pid, value, sizeof value)) {
        int n = cleave_release_parse_workers(value);
        if (n > 0) return n;
        snprintf(note, note_size, CLEAVE_ENV_TEARDOWN_WORKERS " of process %d is not a number from 1 to 64 (\"%s\"): the helper frees with one task", (int)pid, value);
        return 1;
    }
    cpu_set_t set;
    long cpus = sched_getaffinity(tid, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    char dir[4200], path[64];
    snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
    return cleave_release_default_workers(cpus, cpus > 1 && cleave_release_cgroup_dir(path, dir, sizeof dir) == 0 ? dir : NULL);
}

/* Undoes mountinfo's octal escapes (\040 for a space...) in place. */
static void unescape(char *s) {
    char *out = s;
    for (; *s; s++) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
            *out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 3;
        } else {
            *out++ = *s;
        }
    }
    *out = 0;
}

/* The process's cgroup v2 path from the "0::" line of /proc/<pid>/cgroup (as cleave's cgroup
 * namespace sees it, like the mount roots in its mountinfo). */
static int cgroup_path(pid_t pid, char *out, size_t size) {
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f) return -1;
    int found = -1;
    while (fgets(buf, sizeof buf, f)) {
        if (strncmp(buf, "0::/", 4)) continue;
        buf[strcspn(buf, "\n")] = 0;
        if (strstr(buf, "/..") || strstr(buf, " (deleted)") || strlen(buf + 3) >= size) break;
        snprintf(out, size, "%s", buf + 3);
        found = 0;
        break;
    }
    fclose(f);
    return found;
}

int inject_procs_paths(pid_t pid, char *target_view, size_t tsize, char *own_view, size_t osize) {
    char cgroup[4096], dir[4200], proc[64];
    snprintf(proc, sizeof proc, "/proc/%d/cgroup", (int)pid);
    if (cgroup_path(pid, cgroup, sizeof cgroup) != 0 || cleave_release_cgroup_dir(proc, dir, sizeof dir) != 0) return -1;
    if ((size_t)snprintf(own_view, osize, "%s/cgroup.procs", dir) >= osize) return -1;
    /* Where the target sees that directory: a cgroup2 mount of its mount namespace whose root
     * (field 4) holds the cgroup, under its mount point (field 5, from the target's root). */
    char path[64], line[8192];
    snprintf(path, sizeof path, "/proc/%d/mountinfo", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f) return -1;
    int found = -1;
    while (found != 0 && fgets(line, sizeof line, f)) {
        char *dash = strstr(line, " - cgroup2 ");
        if (!dash) continue;
        *dash = 0;
        char *fields[5], *save = NULL, *tok = strtok_r(line, " ", &save);
        int n = 0;
        for (; tok && n < 5; tok = strtok_r(NULL, " ", &save)) fields[n++] = tok;
        if (n < 5) continue;
        char *root = fields[3], *mountpoint = fields[4];
        unescape(root);
        unescape(mountpoint);
        size_t rlen = strcmp(root, "/") ? strlen(root) : 0;
        if (strncmp(cgroup, root, rlen) || (cgroup[rlen] != '/' && cgroup[rlen] != 0)) continue;
        const char *rest = cgroup + rlen; /* "" or "/a/b" */
        if (!strcmp(rest, "/")) rest = "";
        if ((size_t)snprintf(target_view, tsize, "%s%s/cgroup.procs", strcmp(mountpoint, "/") ? mountpoint : "", rest) < tsize)
            found = 0;
    }
    fclose(f);
    return found;
}
