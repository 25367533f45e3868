/* A workload for the parallel-release tests, compiled by the tests with cc.
 *   touch MIB             touch MIB MiB of private anonymous memory; write a pattern into a
 *                         shared memfd, a MAP_SHARED file and a MAP_PRIVATE file (FILE and
 *                         FILE.private, given in $RELEASE_FILE); print "ready <pid> <helper>
 *                         <memfd>"; wait to be killed
 *   sibling MIB FILE      touch MIB MiB; start a CLONE_VM child (not a thread) that shares the
 *                         memory, waits for this process to die, then checks a pattern in
 *                         private memory for a second and writes "intact" or "zeroed" to
 *                         FILE; print "ready <pid> <helper> <child>"; wait to be killed
 * The helper's pid comes from the preloaded library (cleave_teardown_helper_pid). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PATTERN_SIZE (1 << 20)

static pid_t helper_pid(void) {
    pid_t (*fn)(void) = (pid_t(*)(void))dlsym(RTLD_DEFAULT, "cleave_teardown_helper_pid");
    return fn ? fn() : 0;
}

static void touch(size_t mib) {
    size_t size = mib << 20;
    volatile char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(2); }
    madvise((void *)p, size, MADV_NOHUGEPAGE); /* 4 KiB pages, as the benchmark's rows */
    for (size_t i = 0; i < size; i += 4096) p[i] = 1;
}

static void fill(volatile unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(i * 7 + 3);
}

static int check(volatile unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(i * 7 + 3)) return 0;
    return 1;
}

static void *map_file(const char *path, int flags) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, PATTERN_SIZE) != 0) { perror(path); exit(2); }
    void *p = mmap(NULL, PATTERN_SIZE, PROT_READ | PROT_WRITE, flags, fd, 0);
    if (p == MAP_FAILED) { perror("mmap file"); exit(2); }
    close(fd);
    return p;
}

static int touch_mode(size_t mib) {
    touch(mib);
    int memfd = memfd_create("cleave-release-test", 0);
    if (memfd < 0 || ftruncate(memfd, PATTERN_SIZE) != 0) { perror("memfd"); return 2; }
    unsigned char *shared = mmap(NULL, PATTERN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (shared == MAP_FAILED) { perror("mmap memfd"); return 2; }
    fill(shared, PATTERN_SIZE);
    const char *file = getenv("RELEASE_FILE");
    if (file && *file) {
        fill(map_file(file, MAP_SHARED), PATTERN_SIZE);
        char private_path[4096];
        snprintf(private_path, sizeof private_path, "%s.private", file);
        /* Written through a private mapping: the copies are the process's, the file keeps zeros. */
        fill(map_file(private_path, MAP_PRIVATE), PATTERN_SIZE);
    }
    printf("ready %d %d %d\n", (int)getpid(), (int)helper_pid(), memfd);
    fflush(stdout);
    for (;;) pause();
}

struct sibling_args {
    pid_t parent;
    const char *result;
    volatile unsigned char *pattern;
};

/* Runs in the CLONE_VM child: raw system calls and no libc state (it shares the
 * parent's TLS), so only syscall() wrappers whose errno nobody reads. */
static int sibling_main(void *arg) {
    struct sibling_args *a = arg;
    while (syscall(SYS_getppid) == a->parent) {
        struct timespec t = {0, 5 * 1000 * 1000};
        syscall(SYS_nanosleep, &t, NULL);
    }
    int intact = 1;
    for (int round = 0; round < 100 && intact; round++) {
        intact = check(a->pattern, PATTERN_SIZE);
        struct timespec t = {0, 10 * 1000 * 1000};
        syscall(SYS_nanosleep, &t, NULL);
    }
    int fd = (int)syscall(SYS_openat, AT_FDCWD, a->result, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const char *word = intact ? "intact\n" : "zeroed\n";
    syscall(SYS_write, fd, word, 7);
    syscall(SYS_close, fd);
    return 0;
}

static int sibling_mode(size_t mib, const char *result) {
    touch(mib);
    static struct sibling_args args;
    args.parent = getpid();
    args.result = result;
    args.pattern = mmap(NULL, PATTERN_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (args.pattern == MAP_FAILED) { perror("mmap"); return 2; }
    fill(args.pattern, PATTERN_SIZE);
    size_t stack_size = 256 * 1024;
    char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) { perror("mmap stack"); return 2; }
    /* Its stack is private anonymous memory too: the sibling must survive the release. */
    pid_t child = clone(sibling_main, stack + stack_size, CLONE_VM | SIGCHLD, &args);
    if (child < 0) { perror("clone"); return 2; }
    printf("ready %d %d %d\n", (int)getpid(), (int)helper_pid(), (int)child);
    fflush(stdout);
    for (;;) pause();
}

int main(int argc, char **argv) {
    if (argc >= 3 && !strcmp(argv[1], "touch")) return touch_mode(strtoul(argv[2], NULL, 10));
    if (argc >= 4 && !strcmp(argv[1], "sibling")) return sibling_mode(strtoul(argv[2], NULL, 10), argv[3]);
    fprintf(stderr, "usage: release_fixture touch MIB | sibling MIB FILE\n");
    return 64;
}
