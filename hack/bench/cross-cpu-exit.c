/* Why one release worker trails the synchronous exit on a machine with two CPUs, without
 * cleave: a process touches SIZE MiB of 4 KiB pages and, with HELPER_CPU given, a CLONE_VM
 * child waits for it to die and then exits, so the address space is freed by exit_mmap() in
 * the child. The process is SIGKILLed; printed: the mode, the ms until it is reaped and the ms
 * until the memory is freed (the helper gone).
 *
 *   cc -O2 -o cross-cpu-exit hack/bench/cross-cpu-exit.c
 *   taskset -c 0 ./cross-cpu-exit 4096      # freed by the process itself
 *   taskset -c 0 ./cross-cpu-exit 4096 0    # by a helper on the same CPU
 *   taskset -c 0 ./cross-cpu-exit 4096 1    # by a helper on the other CPU
 *
 * On this project's machines (2 vCPUs, kernel 6.18, 12 runs each, medians): 115 ms on the same
 * CPU against 124 on the other (116-203). */
#define _GNU_SOURCE
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int parent_fd, helper_cpu = -1;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int helper(void *arg) {
    (void)arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(helper_cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
    struct pollfd p = {parent_fd, POLLIN, 0};
    poll(&p, 1, -1);
    syscall(SYS_exit, 0);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s SIZE_MIB [HELPER_CPU]\n", argv[0]); return 2; }
    size_t size = (size_t)atol(argv[1]) << 20;
    if (argc > 2) helper_cpu = atoi(argv[2]);
    int ready[2];
    if (pipe(ready) != 0) return 1;
    pid_t workload = fork();
    if (workload == 0) {
        char *m = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        madvise(m, size, MADV_NOHUGEPAGE);
        memset(m, 1, size);
        if (helper_cpu >= 0) {
            parent_fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
            char *stack = mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
            clone(helper, stack + 65536, CLONE_VM | SIGCHLD, 0);
        }
        if (write(ready[1], "x", 1) != 1) _exit(1);
        for (;;) pause();
    }
    char c;
    if (read(ready[0], &c, 1) != 1) return 1;
    usleep(100000);
    int helper_pid = -1;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", workload, workload);
    FILE *f = fopen(path, "r");
    if (f) { if (fscanf(f, "%d", &helper_pid) != 1) helper_pid = -1; fclose(f); }
    int helper_fd = helper_pid > 0 ? (int)syscall(SYS_pidfd_open, helper_pid, 0) : -1;
    double t0 = now_ms();
    kill(workload, SIGKILL);
    waitpid(workload, 0, 0);
    double reaped = now_ms();
    if (helper_fd >= 0) { struct pollfd p = {helper_fd, POLLIN, 0}; poll(&p, 1, -1); }
    printf("%s %.1f %.1f\n", helper_cpu < 0 ? "self" : "helper", reaped - t0, now_ms() - t0);
    return 0;
}
