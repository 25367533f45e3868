/* Reads the target's seccomp filters before anything is changed in it, and runs them over
 * every system call the injection will make there and the helper and its workers will make
 * (they inherit the filters): a filter that kills, traps, traces or notifies on one of them,
 * or fails one whose failure the code does not handle, refuses the injection. The calls are
 * listed from inject.c, helper_main.c, helper_confine.c and release_workers.c, with the
 * arguments they are made with where those are known before the call. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleave_syscalls.h"
#include "inject_internal.h"
#include "seccomp_bpf.h"
#include "seccomp_filter.h"

#ifndef __NR_close_range
#define __NR_close_range 436
#endif

#if defined(__x86_64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

/* The kernel's own bounds: 4096 instructions a filter, 32768 over all (plus 4 per filter). */
#define MAX_FILTERS 8192
#define MAX_TOTAL_INSNS 65536
/* Distinct outcomes of one call over all filters before "too complex". */
#define MAX_OUTCOMES 16

struct one_filter {
    struct sock_filter *insns;
    size_t len;
};

struct inject_filters {
    struct one_filter *list; /* index 0 is the oldest, as PTRACE_SECCOMP_GET_FILTER counts */
    size_t count;
    unsigned long long cap_permitted, cap_inheritable;
};

void inject_filters_free(struct inject_filters *filters) {
    if (!filters) return;
    for (size_t i = 0; i < filters->count; i++) free(filters->list[i].insns);
    free(filters->list);
    free(filters);
}

static int read_file(const char *path, char *buf, size_t size) {
    FILE *f = fopen(path, "re");
    if (!f) return -errno;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = 0;
    return 0;
}

/* A "Name:\tvalue" field of a status file, or -1 when absent. */
static long long status_number(const char *status, const char *name, int base) {
    const char *p = strstr(status, name);
    if (!p) return -1;
    char *end;
    long long v = strtoll(p + strlen(name), &end, base);
    return end == p + strlen(name) ? -1 : v;
}

int inject_read_filters(pid_t pid, pid_t tid, struct inject_filters **filters, struct cleave_inject_result *out) {
    *filters = NULL;
    char path[96], status[8192];
    snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)pid, (int)tid);
    int rc = read_file(path, status, sizeof status);
    if (rc < 0) return inject_fail(out, 1, -rc, "cannot read %s: %s", path, strerror(-rc));
    long long mode = status_number(status, "\nSeccomp:", 10);
    long long expected = status_number(status, "\nSeccomp_filters:", 10); /* Linux 5.9+ */
    if (mode == 1)
        return inject_fail(out, 1, EPERM, "process %d runs in seccomp strict mode (only read, write, exit and sigreturn): it cannot make the injection's calls", (int)pid);
    if (mode != 0 && mode != 2)
        return inject_fail(out, 1, EINVAL, "process %d: cannot tell its seccomp mode from %s", (int)pid, path);

    struct inject_filters *f = calloc(1, sizeof *f);
    if (!f) return inject_fail(out, 1, ENOMEM, "reading the seccomp filters of process %d: out of memory", (int)pid);
    long long prm = status_number(status, "\nCapPrm:", 16), inh = status_number(status, "\nCapInh:", 16);
    /* Unreadable: assume every capability, so every confinement call is checked. */
    f->cap_permitted = prm < 0 ? ~0ULL : (unsigned long long)prm;
    f->cap_inheritable = inh < 0 ? ~0ULL : (unsigned long long)inh;
    if (mode == 0) {
        *filters = f;
        return 0;
    }
    size_t total = 0;
    for (unsigned long index = 0;; index++) {
        long n = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)index, NULL);
        if (n < 0 && errno == ENOENT && index > 0) break;
        if (n < 0) {
            int err = errno;
            inject_filters_free(f);
            /* EIO: a kernel without it (CONFIG_CHECKPOINT_RESTORE); EACCES: cleave is not
             * CAP_SYS_ADMIN, or runs under a filter of its own. Then cleave cannot know what
             * the filters do to its calls, and does not guess. */
            return inject_fail(out, 1, err, "process %d has a seccomp filter that cleave cannot read (PTRACE_SECCOMP_GET_FILTER: %s%s): refusing rather than guessing what it does to the injection's system calls",
                               (int)pid, strerror(err), err == EACCES ? "; cleave needs CAP_SYS_ADMIN and no seccomp filter of its own" : "");
        }
        if (n == 0 || n > BPF_MAXINSNS || index >= MAX_FILTERS || total + (size_t)n > MAX_TOTAL_INSNS) {
            inject_filters_free(f);
            return inject_fail(out, 1, E2BIG, "process %d: its seccomp filters are larger than the kernel allows (filter %lu: %ld instructions)", (int)pid, index, n);
        }
        struct one_filter *grown = realloc(f->list, (f->count + 1) * sizeof *grown);
        struct sock_filter *insns = malloc((size_t)n * sizeof *insns);
        if (grown) f->list = grown;
        if (!grown || !insns) {
            free(insns);
            inject_filters_free(f);
            return inject_fail(out, 1, ENOMEM, "reading the seccomp filters of process %d: out of memory", (int)pid);
        }
        /* The buffer is sized by the count just read: a filter cannot change once installed. */
        long got = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)index, insns);
        if (got != n) {
            int err = got < 0 ? errno : EAGAIN;
            free(insns);
            inject_filters_free(f);
            return inject_fail(out, 1, err, "process %d: reading its seccomp filter %lu: %s", (int)pid, index, strerror(err));
        }
        f->list[f->count].insns = insns;
        f->list[f->count].len = (size_t)n;
        f->count++;
        total += (size_t)n;
    }
    if (expected >= 0 && (size_t)expected != f->count) {
        size_t count = f->count;
        inject_filters_free(f);
        return inject_fail(out, 1, EAGAIN, "process %d: read %zu seccomp filters, its status says %lld (one was added meanwhile?)", (int)pid, count, expected);
    }
    *filters = f;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */

/* An argument: its value, or unknown before the call. */
struct arg {
    uint64_t value;
    int known;
};
#define K(v) ((struct arg){(uint64_t)(int64_t)(v), 1})
#define U ((struct arg){0, 0})

/* What an error from the filter (SECCOMP_RET_ERRNO) means to the code that makes the call. */
enum tolerance {
    MUST_PASS,   /* the injection cannot go on (or would go wrong) without the call */
    ANY_ERRNO,   /* the code goes on after any error (best effort, or a fallback) */
    ERRNO_LISTED /* only the errnos listed (the code's fallback for them) */
};

struct checker {
    const struct inject_filters *filters;
    char *why;
    size_t why_size;
    int verdict; /* 1 pass, 0 refused, -1 cannot evaluate */
};

#define PASSES 1
#define FAILS_HANDLED 2 /* an error the code handles: its fallback is taken, check that too */

static const char *action_text(uint32_t ret, char *buf, size_t size) {
    switch (ret & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_KILL_PROCESS: return "kill the process (SECCOMP_RET_KILL_PROCESS)";
    case SECCOMP_RET_KILL_THREAD: return "kill the thread (SECCOMP_RET_KILL_THREAD)";
    case SECCOMP_RET_TRAP: return "raise SIGSYS (SECCOMP_RET_TRAP)";
    case SECCOMP_RET_USER_NOTIF: return "hand it to a supervisor (SECCOMP_RET_USER_NOTIF)";
    case SECCOMP_RET_TRACE: return "hand it to a tracer (SECCOMP_RET_TRACE)";
    case SECCOMP_RET_ERRNO: {
        unsigned data = ret & SECCOMP_RET_DATA;
        if (data > 4095) data = 4095; /* MAX_ERRNO, as the kernel caps it */
        if (data == 0) snprintf(buf, size, "skip it and return 0 (SECCOMP_RET_ERRNO with errno 0)");
        else snprintf(buf, size, "fail it with %s (SECCOMP_RET_ERRNO %u)", strerror((int)data), data);
        return buf;
    }
    default:
        snprintf(buf, size, "return the unknown action 0x%08x (the kernel kills the process)", ret);
        return buf;
    }
}

/* Every result the filters together can give `call`, combined as the kernel does: newest
 * filter first, the most restrictive action wins, on a tie the first (newest) one's data. */
static int outcomes(const struct inject_filters *f, const struct bpf_call *call, uint32_t *set, int *count) {
    set[0] = SECCOMP_RET_ALLOW;
    *count = 1;
    for (size_t i = f->count; i-- > 0;) {
        struct bpf_rets rets;
        int rc = bpf_evaluate(f->list[i].insns, f->list[i].len, call, &rets);
        if (rc < 0) return rc;
        uint32_t next[MAX_OUTCOMES];
        int n = 0;
        for (int a = 0; a < *count; a++)
            for (int b = 0; b < rets.count; b++) {
                uint32_t r = bpf_action_wins(rets.ret[b], set[a]) ? rets.ret[b] : set[a];
                int seen = 0;
                for (int c = 0; c < n; c++) seen |= next[c] == r;
                if (seen) continue;
                if (n == MAX_OUTCOMES) return BPF_EVAL_TOO_COMPLEX;
                next[n++] = r;
            }
        memcpy(set, next, (size_t)n * sizeof *set);
        *count = n;
    }
    return 0;
}

/* Checks one call: PASSES, FAILS_HANDLED, or 0 with the checker's verdict set. `what` names the
 * call and who makes it, for the message. `errnos` ends with 0. */
static int check(struct checker *c, const char *what, int nr, struct arg a0, struct arg a1, struct arg a2, struct arg a3,
                 struct arg a4, struct arg a5, enum tolerance tolerance, const int *errnos) {
    if (c->verdict != 1) return 0;
    if (!c->filters || c->filters->count == 0) return PASSES;
    struct bpf_call call;
    bpf_call_init(&call, nr, NATIVE_AUDIT_ARCH);
    const struct arg args[6] = {a0, a1, a2, a3, a4, a5};
    for (int i = 0; i < 6; i++)
        if (args[i].known) bpf_call_arg(&call, i, args[i].value);
    uint32_t set[MAX_OUTCOMES];
    int count = 0;
    int rc = outcomes(c->filters, &call, set, &count);
    if (rc < 0) {
        c->verdict = -1;
        snprintf(c->why, c->why_size, "its seccomp filter cannot be evaluated for %s (%s)", what,
                 rc == BPF_EVAL_INVALID ? "an instruction seccomp does not run" :
                 rc == BPF_EVAL_UNKNOWN_RET ? "it returns a value computed from an argument cleave cannot know in advance" :
                 rc == BPF_EVAL_NO_MEMORY ? "out of memory" : "too many different results");
        return 0;
    }
    /* Report the most restrictive result that does not pass. */
    int result = PASSES, bad = -1;
    for (int i = 0; i < count; i++) {
        uint32_t action = set[i] & SECCOMP_RET_ACTION_FULL;
        if (action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_LOG) continue;
        if (action == SECCOMP_RET_ERRNO && tolerance != MUST_PASS) {
            int data = (int)(set[i] & SECCOMP_RET_DATA);
            if (data > 4095) data = 4095;
            int handled = data > 0 && tolerance == ANY_ERRNO; /* errno 0 is no error: the call "returns" 0 */
            for (const int *e = errnos; tolerance == ERRNO_LISTED && e && *e; e++) handled |= data == *e;
            if (handled) {
                result = FAILS_HANDLED;
                continue;
            }
        }
        if (bad < 0 || bpf_action_wins(set[i], set[bad])) bad = i;
    }
    if (bad < 0) return result;
    char buf[96];
    c->verdict = 0;
    snprintf(c->why, c->why_size, "its seccomp filter would %s on %s", action_text(set[bad], buf, sizeof buf), what);
    return 0;
}

#define CHECK(c, what, nr, a0, a1, a2, a3, a4, a5, tol, ...) \
    check((c), (what), (nr), a0, a1, a2, a3, a4, a5, (tol), (const int[]){__VA_ARGS__, 0})

#define CAP_SETGID 6
#define CAP_SETUID 7
#define CAP_SETPCAP 8
#define WALL 0x40000000

/* The calls the injection makes in the target (inject.c), in order. */
static void check_injection(struct checker *c, const struct inject_plan *p) {
    int r = CHECK(c, "mmap (writable and executable) of the helper's mapping in the target", __NR_mmap, K(0), K(p->total),
                  K(PROT_READ | PROT_WRITE | PROT_EXEC), K(MAP_PRIVATE | MAP_ANONYMOUS), K(-1), K(0), ERRNO_LISTED, EACCES, EPERM);
    if (r == FAILS_HANDLED) /* W^X: mapped writable, then made executable */
        CHECK(c, "mmap of the helper's mapping in the target", __NR_mmap, K(0), K(p->total), K(PROT_READ | PROT_WRITE),
              K(MAP_PRIVATE | MAP_ANONYMOUS), K(-1), K(0), MUST_PASS, 0);
    CHECK(c, "mprotect (read and execute) of the helper's code in the target", __NR_mprotect, U, K(p->code_len),
          K(PROT_READ | PROT_EXEC), K(0), K(0), K(0), MUST_PASS, 0);
    CHECK(c, "mprotect of the helper's guard page in the target", __NR_mprotect, U, K(4096), K(PROT_NONE), K(0), K(0), K(0), MUST_PASS, 0);
    CHECK(c, "mprotect of the helper's stack and data in the target", __NR_mprotect, U, K(p->rw_len), K(PROT_READ | PROT_WRITE),
          K(0), K(0), K(0), MUST_PASS, 0);
    if (p->workers > 1) /* one call per worker, each with the same arguments but the address */
        CHECK(c, "mprotect of a release worker's guard page in the target", __NR_mprotect, U, K(4096), K(PROT_NONE), K(0), K(0),
              K(0), MUST_PASS, 0);
    CHECK(c, "getpid in the target", __NR_getpid, K(0), K(0), K(0), K(0), K(0), K(0), MUST_PASS, 0);
    CHECK(c, "gettid in the target", __NR_gettid, K(0), K(0), K(0), K(0), K(0), K(0), MUST_PASS, 0);
    if (CHECK(c, "pidfd_open in the target", __NR_pidfd_open, U, K(0), K(0), K(0), K(0), K(0), ERRNO_LISTED, ENOSYS) == FAILS_HANDLED) {
        /* As before Linux 5.3: the helper waits with the parent-death signal. */
        CHECK(c, "signalfd4 by the helper (no pidfd)", __NR_signalfd4, K(-1), U, K(8), K(O_CLOEXEC), K(0), K(0), MUST_PASS, 0);
        CHECK(c, "prctl(PR_SET_PDEATHSIG) by the helper (no pidfd)", __NR_prctl, K(1), K(62), K(0), K(0), K(0), K(0), MUST_PASS, 0);
        CHECK(c, "read of its signalfd by the helper (no pidfd)", __NR_read, U, U, K(128), K(0), K(0), K(0), MUST_PASS, 0);
    }
    CHECK(c, "pipe2 in the target", __NR_pipe2, U, K(O_CLOEXEC), K(0), K(0), K(0), K(0), MUST_PASS, 0);
    CHECK(c, "fcntl(F_DUPFD_CLOEXEC) in the target", __NR_fcntl, U, K(F_DUPFD_CLOEXEC), K(3), K(0), K(0), K(0), MUST_PASS, 0);
    CHECK(c, "close in the target", __NR_close, U, K(0), K(0), K(0), K(0), K(0), MUST_PASS, 0);
    CHECK(c, "openat of /proc/self/statm in the target", __NR_openat, K(AT_FDCWD), U, K(O_RDONLY | O_CLOEXEC), K(0), K(0), K(0), ANY_ERRNO, 0);
    if (p->workers > 1)
        CHECK(c, "openat of cgroup.procs in the target (for the release workers)", __NR_openat, K(AT_FDCWD), U,
              K(O_RDONLY | O_CLOEXEC), K(0), K(0), K(0), ANY_ERRNO, 0);
    CHECK(c, "rt_sigprocmask in the target", __NR_rt_sigprocmask, K(SIG_SETMASK), U, U, K(8), K(0), K(0), MUST_PASS, 0);
    CHECK(c, "clone(CLONE_VM|CLONE_CHILD_CLEARTID) of the helper in the target", __NR_clone, K(CLONE_VM | CLONE_CHILD_CLEARTID), U,
          K(0), U, K(0), K(0), MUST_PASS, 0);
    /* Also the resume sequence's, should cleave die (r8 and r9 as the thread left them). */
    CHECK(c, "rt_sigprocmask in the target", __NR_rt_sigprocmask, K(SIG_SETMASK), U, K(0), K(8), U, U, MUST_PASS, 0);
    /* What an undo makes: each is best effort, so an error is fine, a kill is not. */
    CHECK(c, "waitid in the target (undo)", __NR_waitid, K(P_PID), U, U, K(WEXITED | WALL), K(0), K(0), ANY_ERRNO, 0);
    CHECK(c, "munmap in the target (undo)", __NR_munmap, U, U, K(0), K(0), K(0), K(0), ANY_ERRNO, 0);
    CHECK(c, "rt_tgsigqueueinfo in the target (a signal that came during the injection)", __NR_rt_tgsigqueueinfo, U, U, U, U,
          K(0), K(0), ANY_ERRNO, 0);
}

/* The helper until its own filter is in (helper_main.c, helper_confine.c), in order. */
static void check_helper(struct checker *c, const struct inject_plan *p, const struct inject_filters *f) {
    CHECK(c, "prctl(PR_SET_NAME) by the helper", __NR_prctl, K(PR_SET_NAME), U, K(0), K(0), K(0), K(0), MUST_PASS, 0);
    if (CHECK(c, "close_range by the helper", __NR_close_range, U, U, K(0), K(0), K(0), K(0), ANY_ERRNO, 0) == FAILS_HANDLED) {
        CHECK(c, "openat of /proc/self/fd by the helper (no close_range)", __NR_openat, K(AT_FDCWD), U, K(O_DIRECTORY), K(0), K(0),
              K(0), ANY_ERRNO, 0);
        CHECK(c, "getdents64 by the helper (no close_range)", __NR_getdents64, U, U, K(1024), K(0), K(0), K(0), ANY_ERRNO, 0);
        CHECK(c, "close by the helper", __NR_close, U, K(0), K(0), K(0), K(0), K(0), MUST_PASS, 0);
        CHECK(c, "prlimit64(RLIMIT_NOFILE) by the helper (no close_range)", __NR_prlimit64, K(0), K(RLIMIT_NOFILE), K(0), U, K(0),
              K(0), ANY_ERRNO, 0);
    }
    CHECK(c, "chdir by the helper", __NR_chdir, U, K(0), K(0), K(0), K(0), K(0), ANY_ERRNO, 0);
    /* The long slice (helper_main.c lengthen_slice): any refusal leaves the slice as inherited. */
    CHECK(c, "sched_getscheduler by the helper", __NR_sched_getscheduler, K(0), K(0), K(0), K(0), K(0), K(0), ANY_ERRNO, 0);
    CHECK(c, "getpriority by the helper", __NR_getpriority, K(0), K(0), K(0), K(0), K(0), K(0), ANY_ERRNO, 0);
    CHECK(c, "sched_setattr by the helper", __NR_sched_setattr, K(0), U, K(0), K(0), K(0), K(0), ANY_ERRNO, 0);
    CHECK(c, "openat of /proc/self/statm by the helper", __NR_openat, K(AT_FDCWD), U, K(O_CLOEXEC), K(0), K(0), K(0), ANY_ERRNO, 0);
    CHECK(c, "getpid by the helper", __NR_getpid, K(0), K(0), K(0), K(0), K(0), K(0), MUST_PASS, 0);
    CHECK(c, "prlimit64(RLIMIT_CORE) by the helper", __NR_prlimit64, K(0), K(RLIMIT_CORE), U, K(0), K(0), K(0), MUST_PASS, 0);
    CHECK(c, "capget by the helper", __NR_capget, U, U, K(0), K(0), K(0), K(0), MUST_PASS, 0);
    unsigned long long prm = f ? f->cap_permitted : 0, inh = f ? f->cap_inheritable : 0;
    if (prm | inh) {
        CHECK(c, "capset by the helper", __NR_capset, U, U, K(0), K(0), K(0), K(0), MUST_PASS, 0);
        if (prm & (1ULL << CAP_SETGID)) {
            CHECK(c, "setgroups by the helper", __NR_setgroups, K(0), K(0), K(0), K(0), K(0), K(0), MUST_PASS, 0);
            CHECK(c, "setresgid by the helper", __NR_setresgid, K(p->drop_gid), K(p->drop_gid), K(p->drop_gid), K(0), K(0), K(0),
                  ERRNO_LISTED, EINVAL);
        }
        if (prm & (1ULL << CAP_SETPCAP)) {
            CHECK(c, "prctl(PR_CAPBSET_READ) by the helper", __NR_prctl, K(PR_CAPBSET_READ), U, K(0), K(0), K(0), K(0), ERRNO_LISTED, EINVAL);
            CHECK(c, "prctl(PR_CAPBSET_DROP) by the helper", __NR_prctl, K(PR_CAPBSET_DROP), U, K(0), K(0), K(0), K(0), MUST_PASS, 0);
        }
        if (prm & (1ULL << CAP_SETUID))
            CHECK(c, "setresuid by the helper", __NR_setresuid, K(p->drop_uid), K(p->drop_uid), K(p->drop_uid), K(0), K(0), K(0),
                  ERRNO_LISTED, EINVAL);
        CHECK(c, "prctl(PR_CAP_AMBIENT) by the helper", __NR_prctl, K(PR_CAP_AMBIENT), K(PR_CAP_AMBIENT_CLEAR_ALL), K(0), K(0), K(0),
              K(0), ANY_ERRNO, 0);
        if (prm & ((1ULL << CAP_SETUID) | (1ULL << CAP_SETGID))) {
            CHECK(c, "prctl(PR_GET_DUMPABLE) by the helper", __NR_prctl, K(PR_GET_DUMPABLE), K(0), K(0), K(0), K(0), K(0), ANY_ERRNO, 0);
            CHECK(c, "prctl(PR_SET_DUMPABLE) by the helper", __NR_prctl, K(PR_SET_DUMPABLE), K(0), K(0), K(0), K(0), K(0), MUST_PASS, 0);
        }
    }
    CHECK(c, "prctl(PR_SET_NO_NEW_PRIVS) by the helper", __NR_prctl, K(PR_SET_NO_NEW_PRIVS), K(1), K(0), K(0), K(0), K(0), MUST_PASS, 0);
    if (CHECK(c, "seccomp(SECCOMP_SET_MODE_FILTER) by the helper", __NR_seccomp, K(SECCOMP_SET_MODE_FILTER), K(0), U, K(0), K(0),
              K(0), ERRNO_LISTED, ENOSYS) == FAILS_HANDLED)
        CHECK(c, "prctl(PR_SET_SECCOMP) by the helper", __NR_prctl, K(PR_SET_SECCOMP), K(SECCOMP_MODE_FILTER), U, K(0), K(0), K(0),
              MUST_PASS, 0);
    /* From here the helper's own filter applies too (it allows exactly these). */
    CHECK(c, "getppid by the helper", __NR_getppid, K(0), K(0), K(0), K(0), K(0), K(0), MUST_PASS, 0);
    CHECK(c, "futex(FUTEX_WAKE) by the helper", __NR_futex, U, K(1), K(1), K(0), K(0), K(0), MUST_PASS, 0);
    CHECK(c, "ppoll by the helper", __NR_ppoll, U, K(2), U, K(0), K(8), K(0), MUST_PASS, 0);
    CHECK(c, "ppoll (a pause) by the helper", __NR_ppoll, K(0), K(0), U, K(0), K(8), K(0), MUST_PASS, 0);
    CHECK(c, "pread64 of statm by the helper", __NR_pread64, U, U, K(128), K(0), K(0), K(0), MUST_PASS, 0);
    CHECK(c, "restart_syscall by the helper", __NR_restart_syscall, U, U, U, U, U, U, MUST_PASS, 0);
    CHECK(c, "exit by the helper", __NR_exit, K(0), K(0), K(0), K(0), K(0), K(0), MUST_PASS, 0);
    CHECK(c, "exit by the helper's start code", __NR_exit, K(0), U, U, U, U, U, MUST_PASS, 0);
}

/* The parallel release (release_workers.c): the helper and its workers. */
static void check_release(struct checker *c) {
    CHECK(c, "openat of /proc/self/maps by the helper", __NR_openat, K(AT_FDCWD), U, K(O_CLOEXEC), K(0), K(0), K(0), ANY_ERRNO, 0);
    CHECK(c, "pread64 of cgroup.procs by the helper", __NR_pread64, U, U, K(256), K(0), K(0), K(0), MUST_PASS, 0);
    CHECK(c, "read of /proc/self/maps by the helper", __NR_read, U, U, K(4096), K(0), K(0), K(0), MUST_PASS, 0);
    CHECK(c, "clone(CLONE_VM) of a release worker by the helper", __NR_clone, K(CLONE_VM), U, K(0), K(0), K(0), U, MUST_PASS, 0);
    CHECK(c, "madvise(MADV_DONTNEED) by the release workers", __NR_madvise, U, U, K(MADV_DONTNEED), K(0), K(0), K(0), MUST_PASS, 0);
    CHECK(c, "exit by a release worker", __NR_exit, K(0), U, U, U, U, U, MUST_PASS, 0);
    CHECK(c, "wait4 by the helper", __NR_wait4, K(-1), K(0), K(WALL), K(0), K(0), K(0), MUST_PASS, 0);
    /* A worker that cannot lower its priority frees at the normal one. */
    CHECK(c, "sched_setscheduler(SCHED_IDLE) by a release worker", __NR_sched_setscheduler, K(0), K(SCHED_IDLE), U, K(0),
          K(0), K(0), ANY_ERRNO, 0);
    /* Then it yields: a filter that fails that costs only the yield. */
    CHECK(c, "sched_yield by a release worker", __NR_sched_yield, U, U, U, U, U, U, ANY_ERRNO, 0);
}

int inject_filters_pass(const struct inject_filters *filters, const struct inject_plan *plan, char *why, size_t why_size) {
    struct checker c = {filters, why, why_size, 1};
    why[0] = 0;
    if (!filters || filters->count == 0) return 1;
    check_injection(&c, plan);
    check_helper(&c, plan, filters);
    if (plan->workers > 1) check_release(&c);
    return c.verdict;
}
