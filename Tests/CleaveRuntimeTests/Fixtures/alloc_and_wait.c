/* For the verify tests of programs LD_PRELOAD cannot reach (built -static, or dynamic with
 * `cleave verify --inject`) and the benchmark's injection rows (hack/bench/bench.py):
 * alloc_and_wait MIB [--ready]: touches MIB MiB of private anonymous memory, one write per
 * 4 KiB page, then waits to be killed. Prints "ready <pid>" with --ready only: under verify
 * its stdout is the report's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    size_t size = strtoull(argv[1], NULL, 10) << 20;
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 3;
    for (size_t i = 0; i < size; i += 4096) p[i] = 1;
    if (argc > 2 && strcmp(argv[2], "--ready") == 0) {
        printf("ready %d\n", (int)getpid());
        fflush(stdout);
    }
    for (;;) pause();
}
