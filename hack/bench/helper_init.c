/* Times cleave_teardown_init() with N descriptors open (item 5 of the
 * benchmark). Built by hack/bench.sh from the helper's sources, without the
 * preload constructor. Usage: helper_init N  -> prints microseconds. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cleave_teardown.h"

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10;
    struct rlimit rl = {n + 64, n + 64};
    if (n + 64 > 1024) setrlimit(RLIMIT_NOFILE, &rl);
    for (int i = 0; i < n; i++) {
        if (open("/dev/null", O_RDONLY) < 0) { perror("open"); return 1; }
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int pid = cleave_teardown_init();
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (pid <= 0) { fprintf(stderr, "no helper (%d)\n", pid); return 1; }
    printf("%.1f\n", (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3);
    return 0;
}
