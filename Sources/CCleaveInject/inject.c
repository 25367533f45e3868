/* Injects the teardown helper into a running process, the way CRIU runs its parasite: stop
 * one thread with PTRACE_SEIZE + PTRACE_INTERRUPT, make it run a few system calls, restore
 * its registers, detach. Only that thread stops; the others run on. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../CCleaveTeardown/helper_internal.h"
#include "../CCleaveTeardown/release_layout.h"
#include "cleave_contract.h"
#include "inject_arch.h"
#include "inject_internal.h"
#include "seccomp_filter.h"

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif

#define PAGE 4096UL
#define STACK_SIZE (64 * 1024UL) /* as the preloaded helper's */
#define MAX_HELD_SIGNALS 8

/* The data page: the helper's argument block, then scratch for the remote calls. */
struct inject_data {
    struct cleave_helper_args args;
    unsigned long all_signals, saved_mask;
    int pipe_fds[2];
    char statm_path[32];
    siginfo_t reaped, held_info;
    unsigned long resume[INJECT_CTX_WORDS]; /* the thread's registers, should cleave die (see the trampoline) */
    char procs_path[2048];  /* cgroup.procs as the target sees it, for the parallel release */
};
_Static_assert(sizeof(struct inject_data) <= PAGE, "the data page holds struct inject_data");

struct injection {
    pid_t pid, tid;
    inject_regs saved;
    unsigned long insn;     /* the system-call instruction the thread runs */
    unsigned long vdso_insn; /* one in the vDSO: the first call, and the munmap of an undo */
    unsigned long base;     /* the helper's mapping: guard, stack, code, data; 0 until mapped */
    unsigned long total, code, code_len, data;
    siginfo_t held[MAX_HELD_SIGNALS]; /* signals that arrived while it was ours, delivered at detach */
    int nheld;
    int gone;               /* the target died (or was killed) under us */
    long self_ns, tid_ns;   /* the target's pid and the thread's tid as the target sees them */
    unsigned long held_slot; /* a siginfo_t in the data page, for requeue_held */
    int calls, stall_at;    /* CLEAVE_TEST_INJECT_STALL_AT: see stall_for_test */
    int own_child;          /* cleave run's workload: its exit is left for its pidfd wait, not reaped here */
    int workers;            /* tasks the helper frees with; > 1: the release region after the data page */
    unsigned long region_size;
    char procs_target[2048], procs_own[4300]; /* cgroup.procs as the target and as cleave see it */
    char note[320];
};

/* Tests only: with CLEAVE_TEST_INJECT_STALL_AT=N, cleave stops for good once the thread's
 * registers are set for its Nth remote call (from 0), so a test can SIGKILL it mid-injection. */
static void stall_for_test(struct injection *in) {
    if (in->calls++ == in->stall_at)
        for (;;) pause();
}

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int write_remote(pid_t pid, unsigned long addr, const void *buf, size_t len) {
    struct iovec local = {(void *)buf, len}, remote = {(void *)addr, len};
    ssize_t n = process_vm_writev(pid, &local, 1, &remote, 1, 0);
    if (n < 0) return -errno;
    return (size_t)n == len ? 0 : -EIO;
}

static int read_remote(pid_t pid, unsigned long addr, void *buf, size_t len) {
    struct iovec local = {buf, len}, remote = {(void *)addr, len};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n < 0) return -errno;
    return (size_t)n == len ? 0 : -EIO;
}

/* Waits for the thread's next stop that is ours: a system-call stop (PTRACE_SYSCALL, seen as
 * SIGTRAP|0x80 with PTRACE_O_TRACESYSGOOD), or the PTRACE_INTERRUPT stop when `want_interrupt`.
 * Neither is a signal-delivery stop, so a cleave that dies in one leaves no SIGTRAP to the
 * thread. A signal that arrives meanwhile is held (re-queued by the thread itself before the
 * detach, siginfo intact) and the thread resumed without it: nothing is lost. */
static int wait_ours(struct injection *in, int want_interrupt) {
    for (;;) {
        if (in->own_child) {
            siginfo_t info;
            memset(&info, 0, sizeof info);
            if (waitid(P_PID, in->tid, &info, WEXITED | WSTOPPED | WNOWAIT | __WALL) != 0) {
                if (errno == EINTR) continue;
                return -errno;
            }
            if (info.si_code == CLD_EXITED || info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED) {
                in->gone = 1;
                return -ESRCH;
            }
        }
        int status;
        pid_t r = waitpid(in->tid, &status, __WALL);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -errno;
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            in->gone = 1;
            return -ESRCH;
        }
        if (!WIFSTOPPED(status)) continue;
        int sig = WSTOPSIG(status), event = status >> 16;
        if (event == PTRACE_EVENT_STOP) {
            if (want_interrupt) return 0;
            /* A group stop (SIGSTOP to the process) or the interrupt's late trap: go on. */
        } else if (sig == (SIGTRAP | 0x80)) {
            if (!want_interrupt) return 0;
        } else if (event == 0) {
            siginfo_t info;
            if (ptrace(PTRACE_GETSIGINFO, in->tid, 0, &info) != 0) return -errno;
            if (in->nheld == MAX_HELD_SIGNALS) return -EAGAIN;
            in->held[in->nheld++] = info;
            if (want_interrupt) return 0; /* a signal-delivery stop is as good a place to start */
        }
        if (ptrace(want_interrupt ? PTRACE_CONT : PTRACE_SYSCALL, in->tid, 0, 0) != 0) return -errno;
    }
}

/* Runs one system call in the target thread: registers set for it at the instruction
 * `in->insn`, resumed to its syscall-entry stop and on to its syscall-exit stop, the result
 * read back. */
static int remote_syscall(struct injection *in, long nr, long a0, long a1, long a2, long a3, long a4, long a5,
                          long *result, const inject_regs *extra) {
    inject_regs regs = extra ? *extra : in->saved;
    const long args[6] = {a0, a1, a2, a3, a4, a5};
    inject_prepare_syscall(&regs, in->insn, nr, args);
    int rc = inject_set_regs(in->tid, &regs);
    if (rc < 0) return rc;
    stall_for_test(in);
    for (int stop = 0; stop < 2; stop++) {
        if (ptrace(PTRACE_SYSCALL, in->tid, 0, 0) != 0) return -errno;
        if ((rc = wait_ours(in, 0)) < 0) return rc;
    }
    if ((rc = inject_get_regs(in->tid, &regs)) < 0) return rc;
    if (inject_pc(&regs) != in->insn + inject_syscall_insn_len) return -EFAULT; /* it did not run our instruction */
    *result = inject_syscall_result(&regs);
    return 0;
}

#define REMOTE(in, res, nr, ...) remote_syscall((in), (nr), __VA_ARGS__, (res), NULL)

/* A `syscall` instruction in the target's vDSO: the only code it runs before the helper's
 * page exists. Any two bytes 0f 05 decode as one when jumped to. */
static int find_vdso_syscall(struct injection *in) {
    unsigned long start, end;
    if (inject_vdso_range(in->pid, &start, &end) != 0) return -ENOENT;
    unsigned char buf[16384];
    size_t len = end - start < sizeof buf ? end - start : sizeof buf;
    int rc = read_remote(in->pid, start, buf, len);
    if (rc < 0) return rc;
    for (size_t i = 0; i + inject_syscall_insn_len <= len; i++)
        if (!memcmp(buf + i, inject_syscall_insn, inject_syscall_insn_len)) {
            in->insn = in->vdso_insn = start + i;
            return 0;
        }
    return -ENOENT;
}

/* Re-queues the held signals from inside the target, so they arrive with their siginfo once
 * the thread runs (rt_tgsigqueueinfo refuses another process's si_code); tgkill from here
 * when the target has no data page (a failure before the mmap). */
static void requeue_held(struct injection *in) {
    for (int i = 0; i < in->nheld; i++) {
        long r = -1;
        if (in->held_slot && in->tid_ns > 0 && write_remote(in->pid, in->held_slot, &in->held[i], sizeof in->held[i]) == 0 &&
            REMOTE(in, &r, __NR_rt_tgsigqueueinfo, in->self_ns, in->tid_ns, in->held[i].si_signo, (long)in->held_slot, 0, 0) == 0 && r == 0)
            continue;
        syscall(SYS_tgkill, in->pid, in->tid, in->held[i].si_signo);
    }
    in->nheld = 0;
}

/* Puts the thread's registers back. The last stop is a syscall-exit stop, after which the
 * kernel restarts nothing unless a signal is pending: so with no held signal the interrupted
 * call is restarted here as the kernel restarts it when no handler runs; with one (re-queued,
 * pending), the saved registers go back as they were and the kernel decides (SA_RESTART). */
static int restore_regs(struct injection *in, int signal_pending) {
    inject_regs regs;
    if (signal_pending) regs = in->saved;
    else inject_restarted_regs(&in->saved, &regs);
    return inject_set_regs(in->tid, &regs);
}

static unsigned int overflow_id(const char *path) {
    unsigned int v = 65534;
    FILE *f = fopen(path, "re");
    if (f) {
        if (fscanf(f, "%u", &v) != 1 || v == 0) v = 65534;
        fclose(f);
    }
    return v;
}

static const char *errname(long rc) { return strerror((int)-rc); }

/* How many tasks the helper frees with, and the cgroup.procs it needs for more than one
 * (read from /proc, before the target is stopped where possible). */
static void resolve_release(struct injection *in, int requested) {
    in->workers = inject_worker_count(in->pid, in->tid, requested, in->note, sizeof in->note);
    if (in->workers > 1 && inject_procs_paths(in->pid, in->procs_target, sizeof in->procs_target, in->procs_own, sizeof in->procs_own) != 0) {
        snprintf(in->note, sizeof in->note, "cannot find the cgroup.procs of process %d as it sees it: the helper frees with one task", (int)in->pid);
        in->workers = 1;
    }
}

/* Layout: code (the block, then the trampoline), guard page, stack, data page, and with
 * workers the release region (range table, then a guard page and a stack per worker). */
static void plan_layout(struct injection *in, size_t block_len, struct inject_plan *plan) {
    size_t tramp_off = (block_len + 63) & ~63UL;
    in->code_len = (tramp_off + INJECT_TRAMPOLINE_MAX + PAGE - 1) & ~(PAGE - 1);
    in->region_size = in->workers > 1 ? cleave_release_region_size(in->workers, PAGE) : 0;
    in->total = in->code_len + PAGE + STACK_SIZE + PAGE + in->region_size;
    plan->total = in->total;
    plan->code_len = in->code_len;
    plan->rw_len = STACK_SIZE + PAGE + in->region_size;
    plan->workers = in->workers;
}

/* The target's seccomp filters against every call of the plan; with workers, then without
 * them (a filter that refuses only the release's calls costs the parallel release, not the
 * helper). 0, or -1 with `refusal` saying why. */
static int check_filters(struct injection *in, size_t block_len, struct inject_plan *plan, struct cleave_inject_result *out,
                         char *refusal, size_t size) {
    struct inject_filters *filters = NULL;
    if (inject_read_filters(in->pid, in->tid, &filters, out) != 0) {
        snprintf(refusal, size, "%s", out->message);
        return -1;
    }
    char why[320];
    int pass = inject_filters_pass(filters, plan, why, sizeof why);
    if (pass != 1 && in->workers > 1) {
        char release_why[320];
        snprintf(release_why, sizeof release_why, "%s", why);
        in->workers = 1;
        plan_layout(in, block_len, plan);
        pass = inject_filters_pass(filters, plan, why, sizeof why);
        if (pass == 1) snprintf(in->note, sizeof in->note, "%.280s: the helper frees with one task", release_why);
    }
    inject_filters_free(filters);
    if (pass == 1) return 0;
    snprintf(refusal, size, "process %d: %.290s", (int)in->pid, why);
    return -1;
}

/* Undoes what the target was given, in reverse: descriptors, the mapping (once no helper
 * runs on it). Best effort: each step is a system call in a thread that may be dying. */
static void undo(struct injection *in, const int fds[4], int helper_alive) {
    long r;
    for (int i = 0; i < 4; i++)
        if (fds[i] >= 0) REMOTE(in, &r, __NR_close, fds[i], 0, 0, 0, 0, 0);
    if (in->base && !helper_alive) {
        in->insn = in->vdso_insn; /* not from the page it unmaps */
        REMOTE(in, &r, __NR_munmap, (long)in->base, (long)in->total, 0, 0, 0, 0);
    }
}

/* With workers: the target opens its cgroup.procs, which must be the file cleave sees as the
 * target cgroup's (same device and inode: the target's mount namespace is its own to shape),
 * and each worker's stack gets its guard page. Where cgroup.procs cannot be had the helper
 * frees with one task and the region goes. < 0 only when a remote call fails. */
static int release_setup(struct injection *in, int fds[4]) {
    long r;
    unsigned long d = in->data;
    int rc = REMOTE(in, &r, __NR_openat, AT_FDCWD, (long)(d + offsetof(struct inject_data, procs_path)), O_RDONLY | O_CLOEXEC, 0, 0, 0);
    if (rc < 0) return rc;
    const char *why = NULL;
    if (r < 0) {
        why = "it cannot open its cgroup.procs";
    } else {
        fds[3] = (int)r;
        char link[64];
        struct stat theirs, mine;
        snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)in->pid, fds[3]);
        if (stat(link, &theirs) != 0 || stat(in->procs_own, &mine) != 0 || theirs.st_dev != mine.st_dev || theirs.st_ino != mine.st_ino)
            why = "the cgroup.procs it opened is not its cgroup's";
    }
    if (why) {
        if (fds[3] >= 0) REMOTE(in, &r, __NR_close, fds[3], 0, 0, 0, 0, 0);
        fds[3] = -1;
        REMOTE(in, &r, __NR_munmap, (long)(d + PAGE), (long)in->region_size, 0, 0, 0, 0);
        /* An undo must not unmap whatever another thread maps into the hole. */
        in->total -= in->region_size;
        in->region_size = 0;
        in->workers = 1;
        snprintf(in->note, sizeof in->note, "process %d: %s: the helper frees with one task", (int)in->pid, why);
        return 0;
    }
    for (int k = 1; k < in->workers; k++) {
        rc = REMOTE(in, &r, __NR_mprotect, (long)(d + PAGE + cleave_release_guard_offset(k, PAGE)), (long)PAGE, PROT_NONE, 0, 0, 0);
        if (rc < 0) return rc;
        if (r < 0) return (int)r;
    }
    return 0;
}

static int inject_body(struct injection *in, const unsigned char *block, size_t block_len, size_t entry,
                       struct cleave_inject_result *out, long long t0, long long t_stopped);

int cleave_inject_helper(pid_t pid, const unsigned char *block, size_t block_len, size_t entry,
                         struct cleave_inject_result *out) {
    return cleave_inject_helper_workers(pid, block, block_len, entry, 0, out);
}

int cleave_inject_helper_workers(pid_t pid, const unsigned char *block, size_t block_len, size_t entry, int workers,
                                 struct cleave_inject_result *out) {
    memset(out, 0, sizeof *out);
    if (!block || block_len == 0 || entry >= block_len) return inject_fail(out, 1, EINVAL, "no helper block to inject");
    struct injection in;
    memset(&in, 0, sizeof in);
    in.pid = pid;
    const char *stall = getenv("CLEAVE_TEST_INJECT_STALL_AT");
    in.stall_at = stall && *stall ? atoi(stall) : -1;
    if (inject_check_target(pid, &in.tid, out) != 0) return -1;
    out->target_tid = in.tid;
    resolve_release(&in, workers);

    if (ptrace(PTRACE_SEIZE, in.tid, 0, (void *)PTRACE_O_TRACESYSGOOD) != 0) {
        int err = errno;
        if (err == EPERM) return inject_fail(out, 1, err, "cannot trace process %d (already traced, or not permitted): %s", (int)pid, strerror(err));
        return inject_fail(out, 1, err, "PTRACE_SEIZE of process %d: %s", (int)pid, strerror(err));
    }
    long long t0 = now_ns();
    int rc;
    if (ptrace(PTRACE_INTERRUPT, in.tid, 0, 0) != 0 || (rc = wait_ours(&in, 1)) < 0) {
        int err = errno;
        ptrace(PTRACE_DETACH, in.tid, 0, 0);
        return inject_fail(out, 1, in.gone ? ESRCH : err, "cannot stop process %d: %s", (int)pid, in.gone ? "it exited" : strerror(err));
    }
    long long t_stopped = now_ns();
    out->stop_ns = t_stopped - t0;
    if ((rc = inject_get_regs(in.tid, &in.saved)) < 0) {
        ptrace(PTRACE_DETACH, in.tid, 0, 0);
        return inject_fail(out, 1, -rc, "process %d is not a 64-bit process of this architecture, or its registers cannot be read: %s", (int)pid, errname(rc));
    }

    return inject_body(&in, block, block_len, entry, out, t0, t_stopped);
}

/* From the thread stopped by us (an interrupt or the exec event stop), registers saved in
 * `in->saved`: the injection proper, undo on failure, and the detach. */
static int inject_body(struct injection *in, const unsigned char *block, size_t block_len, size_t entry,
                       struct cleave_inject_result *out, long long t0, long long t_stopped) {
    pid_t pid = in->pid;
    int rc;
    int fds[4] = {-1, -1, -1, -1}; /* pidfd, the exec pipe's read end, statm, cgroup.procs: the target's copies */
    int write_end = -1;
    long r = 0, helper = 0;
    int refused = 1, helper_alive = 0;
    const char *step = NULL;
    char refusal[320] = "";
    if ((rc = find_vdso_syscall(in)) < 0) {
        step = "no system-call instruction in the target's vDSO";
        goto fail;
    }

    struct inject_plan plan;
    plan.drop_uid = overflow_id("/proc/sys/kernel/overflowuid");
    plan.drop_gid = overflow_id("/proc/sys/kernel/overflowgid");
    plan_layout(in, block_len, &plan);
    size_t tramp_off = (block_len + 63) & ~63UL;
    /* Before anything changes: a filter that kills (or fails) one of the calls refuses. */
    if (check_filters(in, block_len, &plan, out, refusal, sizeof refusal) != 0) {
        rc = -EPERM;
        goto fail;
    }
    /* Writable and executable for the moment it takes to fill it, so the thread leaves the
     * vDSO after one call (see inject_build_trampoline: from then on a cleave that dies leaves
     * it running); where W^X forbids that, mapped writable and made executable from the vDSO. */
    int wx = 1;
    rc = REMOTE(in, &r, __NR_mmap, 0, (long)in->total, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (rc == 0 && (r == -EACCES || r == -EPERM)) {
        wx = 0;
        rc = REMOTE(in, &r, __NR_mmap, 0, (long)in->total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    }
    if (rc < 0) {
        step = "mmap";
        goto fail;
    }
    if (r < 0 && r > -4096) {
        rc = (int)r;
        step = "mmap in the target (refused by its seccomp filter or limits?)";
        goto fail;
    }
    in->base = (unsigned long)r;
    refused = 0;
    in->code = in->base;
    in->data = in->code + in->code_len + PAGE + STACK_SIZE;
    unsigned long d = in->data;
#define DATA(field) (long)(d + offsetof(struct inject_data, field))
    in->held_slot = (unsigned long)DATA(held_info);

    struct inject_data data;
    memset(&data, 0, sizeof data);
    data.all_signals = ~0UL;
    data.saved_mask = ~0UL; /* the sentinel: no mask saved yet */
    strcpy(data.statm_path, "/proc/self/statm");
    snprintf(data.procs_path, sizeof data.procs_path, "%s", in->procs_target);
    inject_resume_context(&in->saved, data.resume);

    static unsigned char code[1 << 20];
    size_t syscall_off = 0, clone_off = 0;
    if (in->code_len > sizeof code) {
        rc = -E2BIG;
        step = "helper block too large";
        goto fail;
    }
    memset(code, 0xcc, in->code_len); /* int3 between the pieces */
    memcpy(code, block, block_len);
    if (inject_build_trampoline(code + tramp_off, in->code + tramp_off, (unsigned long)DATA(saved_mask),
                                (unsigned long)DATA(resume), &syscall_off, &clone_off) == 0) {
        rc = -ERANGE;
        step = "building the trampoline";
        goto fail;
    }
    if ((rc = write_remote(pid, d, &data, sizeof data)) < 0 || (rc = write_remote(pid, in->code, code, in->code_len)) < 0) {
        step = "process_vm_writev of the helper's code and arguments";
        goto fail;
    }
    if (wx) in->insn = in->code + tramp_off + syscall_off; /* our own page, which no one else runs */
    if ((rc = REMOTE(in, &r, __NR_mprotect, (long)in->code, (long)in->code_len, PROT_READ | PROT_EXEC, 0, 0, 0)) < 0 || (rc = (int)r) < 0) {
        step = "mprotect of the helper's code in the target";
        goto fail;
    }
    in->insn = in->code + tramp_off + syscall_off;
    if ((rc = REMOTE(in, &r, __NR_mprotect, (long)(in->code + in->code_len), (long)PAGE, PROT_NONE, 0, 0, 0)) < 0 || (rc = (int)r) < 0) {
        step = "mprotect of the stack's guard page in the target";
        goto fail;
    }
    if ((rc = REMOTE(in, &r, __NR_mprotect, (long)(in->code + in->code_len + PAGE), (long)(STACK_SIZE + PAGE + in->region_size), PROT_READ | PROT_WRITE, 0, 0, 0)) < 0 || (rc = (int)r) < 0) {
        step = "mprotect of the helper's stack and data in the target";
        goto fail;
    }

    long self = 0;
    if ((rc = REMOTE(in, &self, __NR_getpid, 0, 0, 0, 0, 0, 0)) < 0 || (rc = REMOTE(in, &in->tid_ns, __NR_gettid, 0, 0, 0, 0, 0, 0)) < 0) {
        step = "getpid in the target";
        goto fail;
    }
    in->self_ns = self;
    /* The helper's wake-ups, as the preloaded one's (see teardown_init.c): a pidfd of the
     * target, readable once its whole thread group has exited; the read end of a pipe whose
     * O_CLOEXEC write end stays in the target (EOF at its exec); its statm. */
    if ((rc = REMOTE(in, &r, __NR_pidfd_open, self, 0, 0, 0, 0, 0)) < 0) {
        step = "pidfd_open in the target";
        goto fail;
    }
    fds[0] = r >= 0 ? (int)r : -1; /* ENOSYS before 5.3: the helper falls back to PDEATHSIG */
    if (r < 0 && r != -ENOSYS) {
        rc = (int)r;
        step = "pidfd_open in the target";
        goto fail;
    }
    if ((rc = REMOTE(in, &r, __NR_pipe2, DATA(pipe_fds), O_CLOEXEC, 0, 0, 0, 0)) < 0 || (rc = (int)r) < 0 ||
        (rc = read_remote(pid, d + offsetof(struct inject_data, pipe_fds), data.pipe_fds, sizeof data.pipe_fds)) < 0) {
        step = "pipe2 in the target";
        goto fail;
    }
    fds[1] = data.pipe_fds[0];
    write_end = data.pipe_fds[1];
    if (write_end < 3) { /* a program started with closed standard descriptors still finds them closed */
        if ((rc = REMOTE(in, &r, __NR_fcntl, write_end, F_DUPFD_CLOEXEC, 3, 0, 0, 0)) < 0 || (rc = (int)r) < 0) {
            step = "fcntl F_DUPFD_CLOEXEC in the target";
            goto fail;
        }
        long ignored;
        REMOTE(in, &ignored, __NR_close, write_end, 0, 0, 0, 0, 0);
        write_end = (int)r;
    }
    if ((rc = REMOTE(in, &r, __NR_openat, AT_FDCWD, DATA(statm_path), O_RDONLY | O_CLOEXEC, 0, 0, 0)) < 0) {
        step = "open /proc/self/statm in the target";
        goto fail;
    }
    fds[2] = r >= 0 ? (int)r : -1; /* optional, as in the preloaded helper */
    if (in->workers > 1 && (rc = release_setup(in, fds)) < 0) {
        step = "mprotect of a release worker's guard page in the target";
        goto fail;
    }

    data.args.parent_tgid = (int)self;
    data.args.parent_pidfd = fds[0];
    data.args.exec_pipe = fds[1];
    data.args.parent_statm = fds[2];
    data.args.drop_uid = plan.drop_uid;
    data.args.drop_gid = plan.drop_gid;
    data.args.slice_ns = CLEAVE_HELPER_SLICE_NS; /* as the preloaded helper's (checked against the filter) */
    data.args.release.workers = 1;
    data.args.release.procs_fd = -1;
    data.args.release.page = PAGE;
    if (in->workers > 1) {
        data.args.release.workers = in->workers;
        data.args.release.procs_fd = fds[3];
        data.args.release.region = in->data + PAGE;
        data.args.release.region_size = in->region_size;
        /* The guard, the stack and the data page: never freed under the helper. */
        data.args.release.helper_stack = in->code + in->code_len;
        data.args.release.helper_stack_size = PAGE + STACK_SIZE + PAGE;
    }
    data.args.state = CLEAVE_HELPER_PENDING;
    snprintf(data.args.name, sizeof data.args.name, CLEAVE_HELPER_NAME_PREFIX "%ld", self);
    if ((rc = write_remote(pid, d, &data.args, sizeof data.args)) < 0) {
        step = "process_vm_writev of the helper's arguments";
        goto fail;
    }

    /* Every signal blocked across the clone, so the helper starts with all of them blocked
     * and no handler of the program ever runs on its stack; exit signal 0, as the preloaded
     * helper: the program's wait() never sees it. */
    if ((rc = REMOTE(in, &r, __NR_rt_sigprocmask, SIG_SETMASK, DATA(all_signals), DATA(saved_mask), 8, 0, 0)) < 0 || (rc = (int)r) < 0) {
        step = "rt_sigprocmask in the target";
        goto fail;
    }
    inject_regs clone_regs = in->saved;
    inject_set_clone_entry(&clone_regs, in->code + entry, d + offsetof(struct inject_data, args));
    long cargs[6];
    inject_clone_args(cargs, CLONE_VM | CLONE_CHILD_CLEARTID, in->data /* top of the stack */,
                      d + offsetof(struct inject_data, args.state));
    in->insn = in->code + tramp_off + clone_off;
    int clone_rc = remote_syscall(in, __NR_clone, cargs[0], cargs[1], cargs[2], cargs[3], cargs[4], cargs[5], &helper, &clone_regs);
    in->insn = in->code + tramp_off + syscall_off;
    long mask_r;
    int mask_rc = in->gone ? -ESRCH : REMOTE(in, &mask_r, __NR_rt_sigprocmask, SIG_SETMASK, DATA(saved_mask), 0, 8, 0, 0);
    if ((rc = clone_rc) < 0 || (rc = mask_rc) < 0 || (rc = (int)mask_r) < 0) {
        step = "clone or rt_sigprocmask in the target";
        goto fail;
    }
    if (helper < 0) {
        rc = (int)helper;
        step = "clone in the target (refused by its seccomp filter or limits?)";
        goto fail;
    }
    helper_alive = 1;

    /* The thread stays stopped until the helper has confined itself, as with the preload:
     * the program never runs beside a helper that still holds privilege. */
    int state = CLEAVE_HELPER_PENDING;
    long long deadline = now_ns() + 5000000000LL;
    while (state == CLEAVE_HELPER_PENDING && now_ns() < deadline) {
        if ((rc = read_remote(pid, d + offsetof(struct inject_data, args.state), &state, sizeof state)) < 0) break;
        if (state == CLEAVE_HELPER_PENDING) sched_yield();
    }
    if (state != CLEAVE_HELPER_READY) {
        int failed_step = 0, failed_errno = 0;
        read_remote(pid, d + offsetof(struct inject_data, args.failed_step), &failed_step, sizeof failed_step);
        read_remote(pid, d + offsetof(struct inject_data, args.failed_errno), &failed_errno, sizeof failed_errno);
        if (state == CLEAVE_HELPER_PENDING) {
            pid_t hp = inject_find_child(pid, in->tid, data.args.name);
            if (hp > 0) kill(hp, SIGKILL);
        }
        /* Reap it from the target (it is the target's child; exit signal 0 needs __WALL). */
        long reaped;
        if (REMOTE(in, &reaped, __NR_waitid, P_PID, helper, DATA(reaped), WEXITED | __WALL, 0, 0) == 0 && reaped == 0) helper_alive = 0;
        rc = failed_errno > 0 ? -failed_errno : -ECHILD;
        step = state == CLEAVE_HELPER_FAILED ? cleave_helper_step_name(failed_step) : "the helper did not confine itself";
        goto fail;
    }
    out->helper_nspid = (int)helper;
    out->workers = in->workers;
    snprintf(out->note, sizeof out->note, "%s", in->note);
    long ignored;
    for (int i = 0; i < 4; i++)
        if (fds[i] >= 0) REMOTE(in, &ignored, __NR_close, fds[i], 0, 0, 0, 0, 0);

    /* Back exactly as it was: registers (an interrupted system call then restarts as the
     * kernel would: rax holds -ERESTART*, orig_rax the call), and the signals that came. */
    int pending = in->nheld > 0;
    requeue_held(in);
    if ((rc = restore_regs(in, pending)) < 0) {
        step = "restoring the registers";
        goto fail_late;
    }
    ptrace(PTRACE_DETACH, in->tid, 0, 0);
    out->pause_ns = now_ns() - t_stopped;
    pid_t found = inject_find_child(pid, in->tid, data.args.name);
    out->helper_pid = found > 0 ? found : 0;
    return 0;

fail:
    if (!in->gone) {
        int pending = in->nheld > 0;
        requeue_held(in);
        if (write_end >= 0) {
            long ignored2;
            REMOTE(in, &ignored2, __NR_close, write_end, 0, 0, 0, 0, 0);
        }
        undo(in, fds, helper_alive);
        restore_regs(in, pending);
    }
fail_late:
    if (!in->gone) {
        if (in->nheld) syscall(SYS_tgkill, pid, in->tid, in->held[0].si_signo);
        ptrace(PTRACE_DETACH, in->tid, 0, 0);
    }
    out->pause_ns = now_ns() - t0 - out->stop_ns;
    if (refusal[0] && !in->gone) return inject_fail(out, 1, rc < 0 ? -rc : EPERM, "%s", refusal);
    return inject_fail(out, refused && !in->gone, rc < 0 ? -rc : EIO, "%s%s: %s", in->gone ? "process exited during the injection: " : "",
                       step ? step : "injection", rc < 0 ? strerror(-rc) : "failed");
}

int cleave_inject_seize_for_exec(pid_t pid) {
    if (ptrace(PTRACE_SEIZE, pid, 0, (void *)(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC)) != 0) return -errno;
    return 0;
}

/* Waits, without reaping, for the seized child's PTRACE_EVENT_EXEC stop. Stops before it (a
 * signal to the held child, a group stop) are passed on as the kernel would have without
 * us. 0 at the exec stop; -ECHILD if it exited first (left for its parent to reap). */
static int wait_exec_stop(pid_t pid) {
    for (;;) {
        siginfo_t info;
        memset(&info, 0, sizeof info);
        if (waitid(P_PID, pid, &info, WEXITED | WSTOPPED | WNOWAIT | __WALL) != 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (info.si_code == CLD_EXITED || info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED) return -ECHILD;
        int status;
        if (waitpid(pid, &status, __WALL) != pid) return -errno;
        if (!WIFSTOPPED(status)) return -ECHILD;
        int event = status >> 16, sig = WSTOPSIG(status);
        if (event == PTRACE_EVENT_EXEC) return 0;
        int deliver = (event == 0 && sig != (SIGTRAP | 0x80)) ? sig : 0;
        if (ptrace(PTRACE_CONT, pid, 0, (void *)(long)deliver) != 0) return -errno;
    }
}

int cleave_inject_helper_at_exec(pid_t pid, const unsigned char *block, size_t block_len, size_t entry,
                                 struct cleave_inject_result *out) {
    return cleave_inject_helper_at_exec_workers(pid, block, block_len, entry, 0, out);
}

int cleave_inject_helper_at_exec_workers(pid_t pid, const unsigned char *block, size_t block_len, size_t entry, int workers,
                                         struct cleave_inject_result *out) {
    memset(out, 0, sizeof *out);
    struct injection in;
    memset(&in, 0, sizeof in);
    in.pid = in.tid = pid;
    in.stall_at = -1;
    in.own_child = 1;
    out->target_tid = pid;
    long long t0 = now_ns();
    int rc = wait_exec_stop(pid);
    if (rc == -ECHILD) {
        in.gone = 1;
        return inject_fail(out, 1, ECHILD, "process %d exited before its execve completed", (int)pid);
    }
    if (rc < 0) {
        ptrace(PTRACE_DETACH, pid, 0, 0);
        return inject_fail(out, 1, -rc, "waiting for the execve of process %d: %s", (int)pid, strerror(-rc));
    }
    /* The exec event stop is inside execve: step to its syscall-exit stop, where the remote
     * calls start as they do after an interrupt (the next PTRACE_SYSCALL stop is an entry). */
    if (ptrace(PTRACE_SYSCALL, pid, 0, 0) != 0 || (rc = wait_ours(&in, 0)) < 0) {
        int err = rc < 0 ? -rc : errno;
        if (!in.gone) ptrace(PTRACE_DETACH, pid, 0, 0);
        return inject_fail(out, 1, err, "process %d after its execve: %s", (int)pid, strerror(err));
    }
    long long t_stopped = now_ns();
    out->stop_ns = t_stopped - t0;
    if (!block || block_len == 0 || entry >= block_len) {
        ptrace(PTRACE_DETACH, pid, 0, 0);
        return inject_fail(out, 1, EINVAL, "no helper block to inject");
    }
    if ((rc = inject_get_regs(pid, &in.saved)) < 0) {
        ptrace(PTRACE_DETACH, pid, 0, 0);
        return inject_fail(out, 1, -rc, "process %d is not a 64-bit process of this architecture, or its registers cannot be read: %s", (int)pid, errname(rc));
    }
    resolve_release(&in, workers); /* the new image's environment */
    return inject_body(&in, block, block_len, entry, out, t0, t_stopped);
}
