/* The container process of the hook injection tests, built with -static (LD_PRELOAD cannot
 * reach it). Usage: hook_target MIB STATUS
 * Touches MIB MiB, prints "ready <pid>", blocks in read(3) until the test writes a byte (or
 * closes the pipe), then checks and rewrites every page, prints "worked" and exits STATUS:
 * the process works on after the injection and ends with its own status. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3 && !(argc == 4 && !strcmp(argv[3], "hold"))) {
        fprintf(stderr, "usage: hook_target MIB STATUS [hold]\n");
        return 2;
    }
    size_t bytes = (size_t)atol(argv[1]) << 20;
    unsigned char *mem = bytes ? malloc(bytes) : NULL;
    if (bytes && !mem) return 2;
    for (size_t off = 0; off < bytes; off += 4096) mem[off] = (unsigned char)(off >> 12);
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    if (argc == 4)
        for (;;) pause();
    char c;
    long rc = syscall(SYS_read, 3, &c, 1); /* raw: an EINTR would show, not be retried */
    if (rc < 0) {
        perror("read");
        return 3;
    }
    for (size_t off = 0; off < bytes; off += 4096) {
        if (mem[off] != (unsigned char)(off >> 12)) {
            printf("WRONG byte at %zu\n", off);
            return 4;
        }
        mem[off] = 0;
    }
    printf("worked\n");
    fflush(stdout);
    return atoi(argv[2]);
}
