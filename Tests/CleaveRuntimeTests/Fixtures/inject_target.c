/* Target of the injection tests, built with -static (no PT_INTERP: LD_PRELOAD cannot reach it).
 * Usage: inject_target MODE MIB [SECONDS]
 * Touches MIB MiB, starts threads blocked in read(pipe), nanosleep and futex, prints "ready <pid>",
 * then the main thread (the one `cleave attach` stops) blocks in MODE (read | nanosleep | futex |
 * busy) until a waker thread ends every wait SECONDS (3) later. Each wait must end as it would without
 * the injection: read returns the byte, nanosleep 0 after the full time, futex 0 (woken), never
 * EINTR. Prints one line per wait and exits 7 when all are right, 1 otherwise. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int WAIT_S = 3;

static int pipes[2][2];
static int futex_words[2];
static int failures;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void verdict(const char *who, const char *what, long rc, int err, int ok) {
    pthread_mutex_lock(&lock);
    printf("%s %s: rc=%ld errno=%s %s\n", who, what, rc, rc < 0 ? strerror(err) : "-", ok ? "ok" : "WRONG");
    fflush(stdout);
    if (!ok) failures++;
    pthread_mutex_unlock(&lock);
}

/* One wait of kind `mode` on slot `i` (0: main thread, 1: a worker). */
static void do_wait(const char *who, const char *mode, int i) {
    double start = now();
    if (!strcmp(mode, "read")) {
        char c = 0;
        long rc = syscall(SYS_read, pipes[i][0], &c, 1); /* raw: no libc retry hides an EINTR */
        verdict(who, mode, rc, errno, rc == 1 && c == 'x');
    } else if (!strcmp(mode, "nanosleep")) {
        struct timespec ts = {WAIT_S, 0};
        long rc = syscall(SYS_nanosleep, &ts, NULL);
        verdict(who, mode, rc, errno, rc == 0 && now() - start >= WAIT_S - 0.01);
    } else if (!strcmp(mode, "futex")) {
        long rc = syscall(SYS_futex, &futex_words[i], FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
        int err = errno;
        /* EAGAIN only if the wake came first; never EINTR. */
        verdict(who, mode, rc, err, rc == 0 || (rc == -1 && err == EAGAIN && __atomic_load_n(&futex_words[i], __ATOMIC_SEQ_CST)));
    } else { /* busy: user-space work, no system call */
        volatile unsigned long x = 0;
        while (now() - start < WAIT_S) x++;
        verdict(who, mode, 0, 0, 1);
    }
}

static void *worker(void *arg) {
    do_wait("worker", (const char *)arg, 1);
    return NULL;
}

static void *waker(void *arg) {
    (void)arg;
    sleep(WAIT_S);
    for (int i = 0; i < 2; i++) {
        if (write(pipes[i][1], "x", 1) != 1) abort();
        __atomic_store_n(&futex_words[i], 1, __ATOMIC_SEQ_CST);
        syscall(SYS_futex, &futex_words[i], FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc == 4) WAIT_S = atoi(argv[3]);
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: inject_target read|nanosleep|futex|busy MIB\n");
        return 2;
    }
    size_t bytes = (size_t)atol(argv[2]) << 20;
    char *mem = bytes ? malloc(bytes) : NULL;
    for (size_t off = 0; off < bytes; off += 4096) mem[off] = 1;
    if (pipe(pipes[0]) || pipe(pipes[1])) return 2;
    /* The worker waits in a kind other than the main thread's, so all three run at once. */
    static const char *kinds[] = {"read", "nanosleep", "futex"};
    const char *other = kinds[(strcmp(argv[1], "read") == 0) + (strcmp(argv[1], "nanosleep") == 0) * 2];
    sigset_t mask_before, mask_after; /* the kernel fills only the first 8 bytes */
    memset(&mask_before, 0, sizeof mask_before);
    memset(&mask_after, 0, sizeof mask_after);
    pthread_sigmask(SIG_SETMASK, NULL, &mask_before);
    pthread_t w, k, s;
    pthread_create(&w, NULL, worker, (void *)other);
    pthread_create(&s, NULL, worker, (void *)"nanosleep");
    pthread_create(&k, NULL, waker, NULL);
    printf("ready %d\n", (int)getpid()); /* every thread started: its mappings are all there */
    fflush(stdout);
    do_wait("main", argv[1], 0);
    pthread_join(w, NULL);
    pthread_join(s, NULL);
    pthread_join(k, NULL);
    if (mem) mem[0] = 2;
    /* The stopped thread's signal mask comes back as it was (the injection blocks all around its clone). */
    pthread_sigmask(SIG_SETMASK, NULL, &mask_after);
    verdict("main", "signal mask", 0, 0, memcmp(&mask_before, &mask_after, sizeof mask_before) == 0);
    return failures ? 1 : 7;
}
