/* The child, between clone and exec: async-signal-safe calls and raw system
 * calls only. glibc's set*id wrappers would try to signal threads that only
 * exist in the parent, so ids change through syscall(). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "spawn_internal.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

static void fail(const struct child_plan *plan, const char *step, int err) __attribute__((noreturn));
static void fail(const struct child_plan *plan, const char *step, int err) {
    struct child_report r;
    memset(&r, 0, sizeof r);
    r.err = err;
    strncpy(r.step, step, sizeof r.step - 1);
    ssize_t w = write(plan->error_fd, &r, sizeof r);
    (void)w;
    _exit(127);
}

static void write_pid(char *slot, size_t prefix, pid_t pid) {
    char digits[16];
    int n = 0;
    do { digits[n++] = (char)('0' + pid % 10); pid /= 10; } while (pid > 0 && n < 15);
    for (int i = 0; i < n; i++) slot[prefix + i] = digits[n - 1 - i];
    slot[prefix + n] = 0;
}

static void reset_signals(void) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, NULL); /* EINVAL for KILL/STOP/libc-internal: fine */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Every descriptor above stderr closes at exec; the report pipe is already
 * close-on-exec, so exec success is EOF for the parent. */
static void cloexec_from_3(void) {
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
    struct rlimit rl;
    long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (long)rl.rlim_cur : 65536;
    for (long fd = 3; fd < max; fd++) fcntl((int)fd, F_SETFD, FD_CLOEXEC);
}

static void close_fds(unsigned first, unsigned last) {
    if (first > last) return;
    if (syscall(SYS_close_range, first, last, 0U) == 0) return;
    struct rlimit rl;
    long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (long)rl.rlim_cur : 65536;
    if ((long)last < max) max = (long)last + 1;
    for (long fd = first; fd < max; fd++) close((int)fd);
}

/* Before chdir(cwd): every descriptor from 3 up is closed but the report and start pipes,
 * so a cwd such as /proc/self/fd/N cannot reach a directory cleave (or its caller) held
 * open, as runc does since CVE-2024-21626. */
static void close_from_3_except(int a, int b) {
    int keep[2] = {a < b ? a : b, a < b ? b : a};
    unsigned next = 3;
    for (int i = 0; i < 2; i++) {
        if (keep[i] < 3 || (unsigned)keep[i] < next) continue;
        close_fds(next, (unsigned)keep[i] - 1);
        next = (unsigned)keep[i] + 1;
    }
    close_fds(next, ~0U);
}

static void apply_identity_and_caps(const struct child_plan *plan) {
    const struct cleave_spawn_request *req = plan->req;
    const struct cleave_caps *caps = req->caps;

    /* The bounding set shrinks while we still hold CAP_SETPCAP. */
    if (caps && caps->set) {
        for (int cap = 0; cap <= 63; cap++) {
            if (caps->bounding & (1ULL << cap)) continue;
            if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) fail(plan, "capabilities (bounding)", errno);
        }
    }
    if (req->set_user) {
        /* Keep permitted caps across the uid change; the configured sets are applied right after. */
        if (caps && caps->set && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) fail(plan, "prctl(PR_SET_KEEPCAPS)", errno);
        if (syscall(SYS_setgroups, (size_t)req->ngroups, req->groups) != 0) fail(plan, "setgroups", errno);
        if (syscall(SYS_setresgid, req->gid, req->gid, req->gid) != 0) fail(plan, "setresgid", errno);
        if (syscall(SYS_setresuid, req->uid, req->uid, req->uid) != 0) fail(plan, "setresuid", errno);
        if (caps && caps->set) prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    }
    if (caps && caps->set) {
        if (plan->caps && cap_set_proc(plan->caps) != 0) fail(plan, "capabilities (cap_set_proc)", errno);
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        for (int cap = 0; cap <= 63; cap++) {
            if (!(caps->ambient & (1ULL << cap))) continue;
            if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) fail(plan, "capabilities (ambient)", errno);
        }
    }
}

void cleave_child_exec(const struct child_plan *plan) {
    const struct cleave_spawn_request *req = plan->req;
    reset_signals();
    if (plan->start_write_fd >= 0) close(plan->start_write_fd);

    if (plan->release_fd >= 0) {
        /* Fork fallback: do nothing that allocates until the parent has put
         * us in the cgroup and says go. */
        char go;
        ssize_t n;
        do { n = read(plan->release_fd, &go, 1); } while (n < 0 && errno == EINTR);
        if (n != 1) _exit(127); /* the parent failed and reports it */
    }
    if (plan->pid_slot) write_pid(plan->pid_slot, plan->pid_prefix_len, (pid_t)syscall(SYS_getpid));
    if (req->stdout_fd >= 0 && req->stdout_fd != 1 && dup2(req->stdout_fd, 1) < 0) fail(plan, "dup2 stdout", errno);

    /* Resource settings that need privilege come before the identity change. */
    for (int i = 0; i < req->nrlimits; i++) {
        struct rlimit rl = {req->rlimits[i].soft, req->rlimits[i].hard};
        if (setrlimit(req->rlimits[i].resource, &rl) != 0) fail(plan, "setrlimit", errno);
    }
    if (req->set_oom_score_adj) {
        char buf[16];
        int n = 0, v = req->oom_score_adj, neg = v < 0;
        unsigned u = neg ? (unsigned)(-(long)v) : (unsigned)v;
        char tmp[12]; int t = 0;
        do { tmp[t++] = (char)('0' + u % 10); u /= 10; } while (u && t < 11);
        if (neg) buf[n++] = '-';
        while (t) buf[n++] = tmp[--t];
        int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, buf, (size_t)n) != n) fail(plan, "oom_score_adj", errno);
        close(fd);
    }
    apply_identity_and_caps(plan);
    if (req->umask >= 0) umask((mode_t)req->umask);
    close_from_3_except(plan->error_fd, plan->start_fd);
    if (req->cwd && chdir(req->cwd) != 0) fail(plan, "chdir", errno);
    if (req->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(plan, "prctl(PR_SET_NO_NEW_PRIVS)", errno);
    cloexec_from_3();

    if (plan->start_fd >= 0) {
        /* Held: report that set-up worked, then wait; EOF means the parent gave up. */
        struct child_report ready;
        memset(&ready, 0, sizeof ready);
        strncpy(ready.step, "ready", sizeof ready.step - 1);
        ssize_t w = write(plan->error_fd, &ready, sizeof ready);
        (void)w;
        char go;
        ssize_t n;
        do { n = read(plan->start_fd, &go, 1); } while (n < 0 && errno == EINTR);
        if (n != 1) _exit(127);
    }
    execve(req->path, req->argv, plan->envp);
    fail(plan, "execve", errno);
}
