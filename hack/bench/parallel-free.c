/* What the kernel allows on this machine, without cleave: the parallel release's
 * floor, measured beside cleave's rows by hack/bench.sh.
 *
 * Usage: parallel-free SIZE_MIB THREADS
 * Touches SIZE_MIB of 4 KiB pages (no transparent huge pages), prints "ready PID"
 * and waits. THREADS 0: waits to be killed (the benchmark's SIGKILL; the kernel's
 * exit_mmap() frees the memory on one CPU, as a synchronous teardown does).
 * THREADS N: on SIGUSR1, N threads take 16 MiB chunks from a shared counter and
 * MADV_DONTNEED them (as cleave's release workers do), then the process exits.
 * The benchmark times the signal to the reap in both cases. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHUNK (16UL << 20)

static char *base;
static size_t total;
static atomic_ulong next_chunk;

static void *drain(void *unused) {
    (void)unused;
    for (;;) {
        size_t at = atomic_fetch_add(&next_chunk, 1) * CHUNK;
        if (at >= total) return NULL;
        size_t n = total - at < CHUNK ? total - at : CHUNK;
        madvise(base + at, n, MADV_DONTNEED);
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: parallel-free SIZE_MIB THREADS\n");
        return 2;
    }
    total = strtoul(argv[1], NULL, 10) << 20;
    int threads = atoi(argv[2]);
    if (total == 0 || threads < 0 || threads > 64) {
        fprintf(stderr, "parallel-free: bad size or thread count\n");
        return 2;
    }
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        perror("parallel-free: mmap");
        return 1;
    }
    madvise(base, total, MADV_NOHUGEPAGE);
    for (size_t i = 0; i < total; i += 4096) base[i] = 1;
    printf("ready %d\n", getpid());
    fflush(stdout);
    if (threads == 0) {
        for (;;) pause();
    }
    int sig;
    sigwait(&usr1, &sig);
    pthread_t extra[64];
    int started = 0;
    for (int i = 1; i < threads; i++)
        if (pthread_create(&extra[started], NULL, drain, NULL) == 0) started++;
    drain(NULL);
    for (int i = 0; i < started; i++) pthread_join(extra[i], NULL);
    _exit(0);
}
