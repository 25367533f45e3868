/* The parent side of the parallel release: how many tasks free the address
 * space, and what the helper needs for them, prepared before the clone
 * because the helper's seccomp filter allows no open and no mmap. Ordinary
 * libc here; nothing changes what the program sees. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cleave_contract.h"
#include "cleave_teardown.h"
#include "helper_internal.h"
#include "release_layout.h"

#define CGROUP2_SUPER_MAGIC 0x63677270


/* A process's cgroup v2 directory: the "0::" line of `proc_cgroup` (its
 * /proc/<pid>/cgroup) under the cgroup2 mount (/sys/fs/cgroup, or
 * /sys/fs/cgroup/unified on a hybrid host). 0 and the path in `out`, or -1. */
int cleave_release_cgroup_dir(const char *proc_cgroup, char *out, size_t size) {
    char buf[4096];
    if (cleave_read_text(proc_cgroup, buf, sizeof buf) <= 0) return -1;
    char *line = strstr(buf, "0::/");
    if (!line || (line != buf && line[-1] != '\n')) return -1;
    char *path = line + 3, *end = strchr(path, '\n');
    if (end) *end = 0;
    if (strstr(path, "/..") || strstr(path, " (deleted)")) return -1;
    static const char *const mounts[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
    for (size_t i = 0; i < sizeof mounts / sizeof mounts[0]; i++) {
        struct statfs fs;
        if (statfs(mounts[i], &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC) continue;
        int n = snprintf(out, size, "%s%s", mounts[i], strcmp(path, "/") ? path : "");
        if (n > 0 && (size_t)n < size) return 0;
    }
    return -1;
}

/* The CPUs cpu.max grants this cgroup and its ancestors: ceil(quota/period),
 * the smallest on the way up; 0 when none sets a quota. */
static long cpu_max_cpus(const char *cgroup_dir) {
    long best = 0;
    char dir[4200], *slash;
    snprintf(dir, sizeof dir, "%s", cgroup_dir); /* walked up by cutting it */
    for (;;) {
        char path[4300], buf[64];
        snprintf(path, sizeof path, "%s/cpu.max", dir);
        long quota, period;
        if (cleave_read_text(path, buf, sizeof buf) > 0 && sscanf(buf, "%ld %ld", &quota, &period) == 2 && quota > 0 && period > 0) {
            long cpus = (quota + period - 1) / period;
            if (best == 0 || cpus < best) best = cpus;
        }
        slash = strrchr(dir, '/');
        if (!slash || slash == dir) break;
        *slash = 0;
        if (!strcmp(dir, "/sys/fs/cgroup") || !strcmp(dir, "/sys/fs/cgroup/unified")) break;
    }
    return best;
}

int cleave_release_parse_workers(const char *value) {
    char *end;
    long n = strtol(value, &end, 10);
    return end != value && *end == 0 && n >= 1 && n <= CLEAVE_RELEASE_MAX_WORKERS ? (int)n : -1;
}

int cleave_release_default_workers(long cpus, const char *cgroup_dir) {
    if (cpus > 1 && cgroup_dir) {
        long quota = cpu_max_cpus(cgroup_dir);
        if (quota > 0 && quota < cpus) cpus = quota;
    }
    if (cpus > CLEAVE_RELEASE_DEFAULT_MAX_WORKERS) cpus = CLEAVE_RELEASE_DEFAULT_MAX_WORKERS;
    return cpus < 1 ? 1 : (int)cpus;
}

int cleave_release_worker_count(char *cgroup_dir, size_t size) {
    cgroup_dir[0] = 0;
    const char *value = getenv(CLEAVE_ENV_TEARDOWN_WORKERS);
    if (value && *value) {
        int n = cleave_release_parse_workers(value);
        if (n > 0) return n;
        const char line[] = "cleave-teardown: warning: " CLEAVE_ENV_TEARDOWN_WORKERS " is not a number from 1 to 64; using one\n";
        ssize_t w = write(2, line, sizeof line - 1);
        (void)w;
        return 1;
    }
    /* The cpuset is in the affinity mask already (the kernel keeps it within
     * cpuset.cpus.effective); cpu.max is not. */
    cpu_set_t set;
    long cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    if (cpus <= 1 || cleave_release_cgroup_dir("/proc/self/cgroup", cgroup_dir, size) != 0) {
        cgroup_dir[0] = 0;
        return cleave_release_default_workers(cpus, NULL);
    }
    return cleave_release_default_workers(cpus, cgroup_dir);
}

void cleave_release_prepare(struct cleave_release_args *release, int workers, const char *cgroup_dir,
                            unsigned long helper_stack, unsigned long helper_stack_size) {
    release->workers = 1;
    release->procs_fd = -1;
    release->region = 0;
    release->region_size = 0;
    release->page = 4096;
    release->helper_stack = helper_stack;
    release->helper_stack_size = helper_stack_size;
    if (workers <= 1) return;

    /* The helper frees in parallel only when it is alone in its cgroup (see
     * release_workers.c): it reads cgroup.procs through this descriptor. */
    char dir[4200], path[4300];
    if (cgroup_dir && *cgroup_dir) snprintf(dir, sizeof dir, "%s", cgroup_dir);
    else if (cleave_release_cgroup_dir("/proc/self/cgroup", dir, sizeof dir) != 0) return;
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    int procs = open(path, O_RDONLY | O_CLOEXEC);
    if (procs < 0) return;

    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) page = 4096;
    size_t size = cleave_release_region_size(workers, (unsigned long)page);
    char *region = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) {
        close(procs);
        return;
    }
    /* A guard page below each worker's stack: an overflow faults instead of
     * running into the next stack or the table. */
    for (int k = 1; k < workers; k++) {
        if (mprotect(region + cleave_release_guard_offset(k, (unsigned long)page), (size_t)page, PROT_NONE) != 0) {
            munmap(region, size);
            close(procs);
            return;
        }
    }
    release->workers = workers;
    release->procs_fd = procs;
    release->region = (unsigned long)region;
    release->region_size = size;
    release->page = (unsigned long)page;
}

void cleave_release_discard(struct cleave_release_args *release) {
    if (release->procs_fd >= 0) close(release->procs_fd);
    if (release->region) munmap((void *)release->region, release->region_size);
    release->procs_fd = -1;
    release->region = 0;
    release->workers = 1;
}
