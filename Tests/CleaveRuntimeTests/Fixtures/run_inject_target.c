/* For RunInjectTests: reports, from the first line of main, how many children its thread
 * already has (an injected helper exists before the program's own code runs) and its
 * effective uid, then waits
 * until the FIFO argv[1] is written to and exits 7. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    char path[64], buf[256] = "";
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (n > 0) buf[n] = 0;
    int children = 0;
    for (char *p = strtok(buf, " \n"); p; p = strtok(NULL, " \n")) children++;
    char *block = malloc(1 << 20); /* its first allocations, with the helper already there */
    memset(block, 1, 1 << 20);
    printf("ready %d %d %u\n", (int)getpid(), children, (unsigned)geteuid());
    fflush(stdout);
    if (argc < 2) return 2;
    int fifo = open(argv[1], O_RDONLY);
    char c;
    if (fifo < 0 || read(fifo, &c, 1) != 1) return 3;
    return 7;
}
