/* The parallel release: once the parent is gone the helper is the last user
 * of the address space, so it may free it from several CPUs at once instead
 * of leaving it all to exit_mmap() on one. MADV_DONTNEED takes the mmap lock
 * for reading only (a VMA lock on recent kernels), so tasks on disjoint
 * ranges run in parallel; munmap would serialise them on the write lock.
 * Everything here runs in the helper or its workers (see helper_fn.h). */
#include <sys/syscall.h>

#include "helper_fn.h"
#include "helper_internal.h"
#include "raw_syscall.h"
#include "release_layout.h"

#define MADV_DONTNEED_CODE 4
#define CLONE_VM_FLAG 0x00000100
#define WALL_FLAG 0x40000000 /* __WALL: the workers' exit signal is 0 */
/* Below this many bytes of candidate mappings the workers cost more than they save. */
#define RELEASE_THRESHOLD (64UL << 20)
/* One madvise call at most: a killed worker stops between calls. */
#define RELEASE_CHUNK (64UL << 20)
/* What one task takes from the queue at a time. Small enough that a worker
 * starved of CPU (it runs at SCHED_IDLE, below) holds back little; large
 * enough that taking one costs nothing next to freeing it (4096 pages). */
#define QUEUE_CHUNK (16UL << 20)
#define HUGE_PAGE (2UL << 20)
#define SCHED_IDLE_POLICY 5

/* cleave_release_clone (helper_internal.h): the switch of stacks is in assembly. */
#if defined(__x86_64__)
__asm__(".text\n"
        ".globl cleave_release_clone\n"
        ".hidden cleave_release_clone\n"
        ".type cleave_release_clone,@function\n"
        "cleave_release_clone:\n"
        "  andq $-16, %rsi\n"
        "  subq $16, %rsi\n"
        "  movq %rdx, 0(%rsi)\n"    /* fn */
        "  movq %rcx, 8(%rsi)\n"    /* arg */
        "  xorl %edx, %edx\n"       /* parent_tid */
        "  xorl %r10d, %r10d\n"     /* child_tid */
        "  xorl %r8d, %r8d\n"       /* tls */
        "  movl $56, %eax\n"        /* __NR_clone */
        "  syscall\n"
        "  testq %rax, %rax\n"
        "  jnz 1f\n"
        "  xorl %ebp, %ebp\n"
        "  popq %rax\n"
        "  popq %rdi\n"
        "  callq *%rax\n"
        "  movl %eax, %edi\n"
        "  movl $60, %eax\n"        /* __NR_exit */
        "  syscall\n"
        "  hlt\n"
        "1:\n"
        "  ret\n"
        ".size cleave_release_clone, .-cleave_release_clone\n");
#elif defined(__aarch64__)
__asm__(".text\n"
        ".globl cleave_release_clone\n"
        ".hidden cleave_release_clone\n"
        ".type cleave_release_clone,%function\n"
        "cleave_release_clone:\n"
        "  and x1, x1, #-16\n"
        "  stp x2, x3, [x1, #-16]!\n" /* fn, arg */
        "  mov x2, xzr\n"
        "  mov x3, xzr\n"
        "  mov x4, xzr\n"
        "  mov x8, #220\n"            /* __NR_clone */
        "  svc 0\n"
        "  cbnz x0, 1f\n"
        "  ldp x1, x0, [sp], #16\n"
        "  blr x1\n"
        "  mov x8, #93\n"             /* __NR_exit */
        "  svc 0\n"
        "  brk #0\n"
        "1:\n"
        "  ret\n"
        ".size cleave_release_clone, .-cleave_release_clone\n");
#endif

/* DONTNEED [lo, hi) of every range. The kernel refuses (EINVAL) a VMA that is
 * mlocked or VM_PFNMAP: that mapping is left to exit_mmap(). */
HELPER_FN static void release_span(const struct cleave_release_range *ranges, unsigned long count, unsigned long lo,
                                   unsigned long hi) {
    for (unsigned long i = 0; i < count; i++) {
        unsigned long s = ranges[i].start > lo ? ranges[i].start : lo;
        unsigned long e = ranges[i].end < hi ? ranges[i].end : hi;
        while (s < e) {
            unsigned long n = e - s > RELEASE_CHUNK ? RELEASE_CHUNK : e - s;
            if (raw_syscall3(__NR_madvise, s, n, MADV_DONTNEED_CODE) < 0) break;
            s += n;
        }
    }
}

/* Where byte `offset` of the ranges' concatenation lies, moved up to a 2 MiB
 * boundary inside its range so that no transparent huge page is split
 * between two tasks; ~0 past the end. */
HELPER_FN static unsigned long address_at(const struct cleave_release_queue *q, unsigned long offset) {
    unsigned long seen = 0;
    for (unsigned long i = 0; i < q->count; i++) {
        unsigned long len = q->ranges[i].end - q->ranges[i].start;
        if (offset < seen + len) {
            unsigned long at = q->ranges[i].start + (offset - seen);
            unsigned long up = (at + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
            return up < q->ranges[i].end ? up : q->ranges[i].end;
        }
        seen += len;
    }
    return ~0UL;
}

/* Takes chunks until none is left. */
HELPER_FN static void drain(struct cleave_release_queue *q) {
    for (;;) {
        unsigned long k = __atomic_fetch_add(&q->next, 1, __ATOMIC_RELAXED);
        if (k >= q->total / q->chunk + 1) return;
        unsigned long lo = k == 0 ? 0 : address_at(q, k * q->chunk);
        if (lo == ~0UL) return;
        release_span(q->ranges, q->count, lo, address_at(q, (k + 1) * q->chunk));
    }
}

/* A worker frees only with CPU time nobody else wants (SCHED_IDLE): the
 * helper, at the workload's own priority, guarantees the release the pace of
 * a single-threaded exit, and the supervisor returning the exit status, the
 * manager and the node's other work are never queued behind the extra
 * workers. If the filter of an injected target refuses the call, the worker
 * frees at normal priority.
 * A running task that lowers itself keeps its CPU until the next tick (the
 * kernel picks again only then): a new worker, which often starts on the CPU
 * where the supervisor was about to send the exit status, then held it back
 * up to 4 ms. It yields once it is at SCHED_IDLE. */
HELPER_FN static int release_worker(void *arg) {
    int param[4] = {0, 0, 0, 0}; /* struct sched_param: priority 0 */
    if (raw_syscall3(__NR_sched_setscheduler, 0, SCHED_IDLE_POLICY, param) == 0) raw_syscall0(__NR_sched_yield);
    drain(arg);
    return 0;
}

/* Whether nothing but the helper is left in the workload's cgroup (the one it
 * was cloned into; the helper itself may have been moved out, as cleave
 * verify does to hold it). A process that shares the address space without
 * being a thread of the workload (a vfork child the workload was killed
 * under, a CLONE_VM child of its own) may still be running in it: freeing
 * under it would corrupt it. Such a process is in the workload's cgroup unless
 * someone moved it; when anything else is there, the helper leaves everything
 * to exit_mmap(), which frees only what nobody uses. */
HELPER_FN static int alone_in_cgroup(int procs_fd, int self) {
    if (procs_fd < 0 || self <= 0) return 0;
    char buf[256];
    long n = raw_syscall4(__NR_pread64, procs_fd, buf, sizeof buf, 0);
    if (n < 0 || n >= (long)sizeof buf) return 0;
    int pids = 0;
    long pid = -1;
    for (long i = 0; i < n; i++) {
        char c = buf[i];
        if (c >= '0' && c <= '9') {
            pid = (pid < 0 ? 0 : pid * 10) + (c - '0');
        } else if (c == '\n') {
            if (pid != self) return 0;
            pids++;
            pid = -1;
        } else {
            return 0;
        }
    }
    return pids <= 1 && pid < 0;
}

struct maps_line {
    int field;                 /* 0 start, 1 end, 2 perms, 3 offset, 4 dev, 5 inode, 6 path */
    unsigned long start, end;
    char perms[4];
    int perm_len;
    char path[8];              /* the first bytes of the path */
    int path_len;
};

HELPER_FN static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

HELPER_FN static int path_starts(const struct maps_line *l, const char *prefix) {
    int i = 0;
    for (; prefix[i]; i++)
        if (i >= l->path_len || i >= (int)sizeof l->path || l->path[i] != prefix[i]) return 0;
    return 1;
}

/* What the release frees: private writable mappings that are anonymous (no
 * path, [heap], [stack], a named [anon:...]) or of a regular file (written
 * pages of a MAP_PRIVATE file are anonymous copies; DONTNEED drops them and
 * never writes the file). Not: shared mappings (their pages belong to the
 * file or shmem object, which others may map), read-only and PROT_NONE ones
 * (no pages written here; exit_mmap() unmaps them), devices (/dev/...),
 * special mappings ([vvar], [vdso], anon_inode:...). */
HELPER_FN static int releasable(const struct maps_line *l) {
    if (l->perm_len != 4 || l->perms[1] != 'w' || l->perms[3] != 'p') return 0;
    if (l->path_len == 0) return 1;
    if (l->path[0] == '/') return !path_starts(l, "/dev/");
    if (path_starts(l, "[heap]") && l->path_len == 6) return 1;
    if (path_starts(l, "[stack")) return 1;
    if (path_starts(l, "[anon:")) return 1;
    return 0;
}

struct range_table {
    struct cleave_release_range *ranges;
    unsigned long count, cap, total;
    unsigned long skip_lo[2], skip_hi[2]; /* the helper's stack, the release region */
};

/* Adds [s, e) less the helper's own memory (its stack and the region holding
 * the table and the workers' stacks: mappings may have merged with them). */
HELPER_FN static void add_range(struct range_table *t, unsigned long s, unsigned long e, int from) {
    for (int i = from; i < 2; i++) {
        if (t->skip_lo[i] >= t->skip_hi[i] || e <= t->skip_lo[i] || s >= t->skip_hi[i]) continue;
        if (s < t->skip_lo[i]) add_range(t, s, t->skip_lo[i], i + 1);
        if (e > t->skip_hi[i]) add_range(t, t->skip_hi[i], e, i + 1);
        return;
    }
    if (s >= e || t->count >= t->cap) return;
    t->ranges[t->count].start = s;
    t->ranges[t->count].end = e;
    t->count++;
    t->total += e - s;
}

/* Parses /proc/self/maps ("start-end perms offset dev inode   path") as it
 * arrives, a byte at a time: no line needs to fit a buffer. */
HELPER_FN static void read_maps(int maps_fd, struct range_table *t) {
    char buf[4096];
    struct maps_line l;
    l.field = 0;
    l.start = l.end = 0;
    l.perm_len = l.path_len = 0;
    for (;;) {
        long n = raw_syscall3(__NR_read, maps_fd, buf, sizeof buf);
        if (n == -4 /* EINTR */) continue;
        if (n <= 0) return;
        for (long i = 0; i < n; i++) {
            char c = buf[i];
            if (c == '\n') {
                if (l.field == 6 && releasable(&l)) add_range(t, l.start, l.end, 0);
                l.field = 0;
                l.start = l.end = 0;
                l.perm_len = l.path_len = 0;
                continue;
            }
            switch (l.field) {
            case 0:
                if (c == '-') l.field = 1;
                else if (hex_digit(c) >= 0) l.start = l.start * 16 + (unsigned long)hex_digit(c);
                else l.field = 7; /* not a maps line: ignore it */
                break;
            case 1:
                if (c == ' ') l.field = 2;
                else if (hex_digit(c) >= 0) l.end = l.end * 16 + (unsigned long)hex_digit(c);
                else l.field = 7;
                break;
            case 2:
                if (c == ' ') l.field = 3;
                else if (l.perm_len < 4) l.perms[l.perm_len++] = c;
                else l.field = 7;
                break;
            case 3:
            case 4:
            case 5:
                if (c == ' ') l.field++;
                break;
            case 6:
                if (c == ' ' && l.path_len == 0) break;
                if (l.path_len < (int)sizeof l.path) l.path[l.path_len] = c;
                l.path_len++;
                break;
            default:
                break;
            }
        }
    }
}

/* The address space's resident bytes (the second field of its statm), or
 * ~0 when it cannot be read (then the mappings decide). */
HELPER_FN static unsigned long resident_bytes(int statm_fd, unsigned long page) {
    char buf[128];
    long n = statm_fd < 0 ? -1 : raw_syscall4(__NR_pread64, statm_fd, buf, sizeof buf, 0);
    long i = 0;
    while (i < n && buf[i] != ' ') i++;
    if (i++ >= n) return ~0UL;
    unsigned long pages = 0;
    int digits = 0;
    for (; i < n && buf[i] >= '0' && buf[i] <= '9'; i++, digits++) pages = pages * 10 + (unsigned long)(buf[i] - '0');
    return digits && digits < 16 ? pages * page : ~0UL;
}

HELPER_FN void cleave_release_parallel(const struct cleave_release_args *release, int maps_fd, int statm_fd, int self_pid) {
    int workers = release->workers;
    unsigned long region = release->region, page = release->page;
    if (workers <= 1 || workers > CLEAVE_RELEASE_MAX_WORKERS || maps_fd < 0 || !region) return;
    /* Less resident than the threshold in all (a short command): exit_mmap() alone
     * is as quick, and the cgroup.procs and maps reads below would only delay it. */
    if (resident_bytes(statm_fd, page) < RELEASE_THRESHOLD) return;
    if (!alone_in_cgroup(release->procs_fd, self_pid)) return;

    struct range_table t;
    t.ranges = (struct cleave_release_range *)region;
    t.count = t.total = 0;
    t.cap = CLEAVE_RELEASE_TABLE_CAP;
    t.skip_lo[0] = release->helper_stack;
    t.skip_hi[0] = release->helper_stack + release->helper_stack_size;
    t.skip_lo[1] = region;
    t.skip_hi[1] = region + release->region_size;
    read_maps(maps_fd, &t);
    if (t.total < RELEASE_THRESHOLD) return; /* exit_mmap() alone is as quick */

    struct cleave_release_queue *q =
        (struct cleave_release_queue *)(region + CLEAVE_RELEASE_TABLE_CAP * sizeof(struct cleave_release_range));
    q->ranges = t.ranges;
    q->count = t.count;
    q->total = t.total;
    q->chunk = QUEUE_CHUNK;
    q->next = 0;
    /* The workers are the helper's children: same mm, same cgroup (their CPU
     * time is charged there), same credentials, no_new_privs and seccomp
     * filter (inherited), every signal blocked, exit signal 0. They keep the
     * helper's name, cleanup/<pid>: whatever recognises a helper sees them as
     * part of the teardown. */
    for (int k = 1; k < workers; k++) {
        void *top = (void *)(region + cleave_release_guard_offset(k + 1, page));
        cleave_release_clone(CLONE_VM_FLAG, top, release_worker, q);
    }
    /* The helper takes chunks too, at its own priority, until none is left:
     * whatever the workers did not get to (one that could not start, or was
     * starved) is freed here. */
    drain(q);
    /* A worker that dies (killed, or by the filter) is reaped like one that
     * finished: its part is left to exit_mmap(). */
    for (;;) {
        long rc = raw_syscall4(__NR_wait4, -1, 0, WALL_FLAG, 0);
        if (rc == -4 /* EINTR */ || rc > 0) continue;
        break; /* ECHILD: all reaped */
    }
}
