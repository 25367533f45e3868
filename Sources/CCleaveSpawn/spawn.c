/* The parent side of the spawn: prepare everything that allocates, clone3
 * into the cgroup (or fork and place), and learn whether exec succeeded. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleave_syscalls.h"
#include "spawn_internal.h"

static int report(struct cleave_spawn_result *res, const char *step, int err) {
    res->failed_step = step;
    res->failed_errno = err;
    return -1;
}

/* A child that failed before exec: reap it, drop its pidfd and report its step. The
 * step is copied into thread-local storage so the caller can read it after we return. */
static int report_reaped(struct cleave_spawn_result *res, pid_t pid, int pidfd, const struct child_report *r) {
    static __thread char step[sizeof r->step];
    waitpid(pid, NULL, 0);
    if (pidfd >= 0) close(pidfd);
    memcpy(step, r->step, sizeof step);
    step[sizeof step - 1] = 0;
    res->pid = -1;
    res->pidfd = -1;
    return report(res, step, r->err);
}

static cap_t build_caps(const struct cleave_caps *c) {
    cap_t caps = cap_init();
    if (!caps) return NULL;
    for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
        cap_value_t v = cap;
        if (c->effective & (1ULL << cap)) cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_SET);
        if (c->permitted & (1ULL << cap)) cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_SET);
        if (c->inheritable & (1ULL << cap)) cap_set_flag(caps, CAP_INHERITABLE, 1, &v, CAP_SET);
    }
    return caps;
}

static char **build_env(const struct cleave_spawn_request *req, char **slot_out, size_t *prefix_out) {
    size_t n = 0;
    while (req->envp && req->envp[n]) n++;
    char **env = calloc(n + 2, sizeof *env);
    if (!env) return NULL;
    size_t k = 0;
    size_t plen = req->pid_env ? strlen(req->pid_env) : 0;
    for (size_t i = 0; i < n; i++) {
        /* drop any stale value of the pid variable */
        if (plen && !strncmp(req->envp[i], req->pid_env, plen) && req->envp[i][plen] == '=') continue;
        env[k++] = req->envp[i];
    }
    *slot_out = NULL;
    if (plen) {
        char *slot = malloc(plen + 1 + 16);
        if (!slot) { free(env); return NULL; }
        memcpy(slot, req->pid_env, plen);
        slot[plen] = '=';
        slot[plen + 1] = 0;
        env[k++] = slot;
        *slot_out = slot;
        *prefix_out = plen + 1;
    }
    env[k] = NULL;
    return env;
}

static pid_t clone3_into_cgroup(int cgroup_fd, int *pidfd) {
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0);
    args.pidfd = (uint64_t)(uintptr_t)pidfd;
    args.exit_signal = SIGCHLD;
    args.cgroup = cgroup_fd >= 0 ? (uint64_t)cgroup_fd : 0;
    return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}

static int write_pid_file(const char *path, pid_t pid) {
    char buf[16];
    int n = snprintf(buf, sizeof buf, "%d", (int)pid);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    ssize_t w = write(fd, buf, (size_t)n);
    int err = w == n ? 0 : (w < 0 ? errno : EIO);
    close(fd);
    return err;
}

/* Reads the child's report: EOF means exec succeeded. */
static int await_exec(int fd, struct child_report *r) {
    ssize_t n;
    do { n = read(fd, r, sizeof *r); } while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof *r;
}

int cleave_spawn(const struct cleave_spawn_request *req, struct cleave_spawn_result *res) {
    memset(res, 0, sizeof *res);
    res->pid = -1;
    res->pidfd = -1;

    struct child_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.req = req;
    plan.release_fd = -1;
    plan.start_fd = -1;
    plan.start_write_fd = -1;
    res->start_fd = -1;
    res->report_fd = -1;
    plan.envp = build_env(req, &plan.pid_slot, &plan.pid_prefix_len);
    if (!plan.envp) return report(res, "prepare environment", ENOMEM);
    if (req->caps && req->caps->set && !(plan.caps = build_caps(req->caps))) {
        free(plan.pid_slot); free(plan.envp);
        return report(res, "prepare capabilities", errno ? errno : ENOMEM);
    }

    int errpipe[2], relpipe[2] = {-1, -1}, startpipe[2] = {-1, -1};
    int rc = -1;
    if (pipe2(errpipe, O_CLOEXEC) != 0) { rc = report(res, "pipe", errno); goto out; }
    plan.error_fd = errpipe[1];
    if (req->hold_before_exec) {
        if (pipe2(startpipe, O_CLOEXEC) != 0) {
            rc = report(res, "pipe", errno);
            close(errpipe[0]); close(errpipe[1]);
            goto out;
        }
        plan.start_fd = startpipe[0];
        plan.start_write_fd = startpipe[1];
    }

    /* Nothing of the parent's may run in the child before its handlers are reset. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);

    pid_t pid = -1;
    int pidfd = -1;
    if (!req->force_fallback) {
        /* Sharing cleave's memory until exec (clone_vfork.c) is for a child that neither waits
         * (the parent sleeps until the exec) nor changes its user: that would make the shared
         * mm, cleave's own, non-dumpable. */
        errno = ENOSYS;
        if (!req->hold_before_exec && !req->set_user) pid = cleave_clone3_vfork(req->cgroup_fd, &pidfd, &plan);
        if (pid < 0 && errno == ENOSYS) {
            pid = clone3_into_cgroup(req->cgroup_fd, &pidfd);
            if (pid == 0) cleave_child_exec(&plan);
        }
        if (pid > 0) res->used_clone3 = 1;
    }
    int clone_err = errno;
    if (pid < 0 && (req->force_fallback || clone_err == ENOSYS || clone_err == E2BIG || clone_err == EINVAL)) {
        /* No clone3 or no CLONE_INTO_CGROUP (before 5.7): fork, place, release. */
        if (pipe2(relpipe, O_CLOEXEC) != 0) {
            clone_err = errno;
        } else {
            plan.release_fd = relpipe[0];
            pid = fork();
            if (pid == 0) {
                close(relpipe[1]);
                cleave_child_exec(&plan);
            }
            clone_err = errno;
            close(relpipe[0]);
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(errpipe[1]);
    if (startpipe[0] >= 0) close(startpipe[0]);

    if (pid < 0) { rc = report(res, req->force_fallback ? "fork" : "clone3", clone_err); goto close_err; }
    res->pid = pid;

    if (!res->used_clone3) {
        int err = req->cgroup_procs ? write_pid_file(req->cgroup_procs, pid) : 0;
        if (err == 0) {
            pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
            if (pidfd < 0) err = errno;
        }
        if (err != 0) {
            close(relpipe[1]);
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            rc = report(res, pidfd < 0 && req->cgroup_procs ? "cgroup.procs" : "pidfd_open", err);
            goto close_err;
        }
        char go = 1;
        ssize_t w = write(relpipe[1], &go, 1);
        (void)w;
        close(relpipe[1]);
    }

    struct child_report r;
    if (req->hold_before_exec) {
        /* A held child reports "ready" (or the step that failed) instead of exec'ing. */
        int got = await_exec(errpipe[0], &r);
        if (got && r.err == 0 && !strcmp(r.step, "ready")) {
            res->pidfd = pidfd;
            res->start_fd = startpipe[1];
            res->report_fd = errpipe[0];
            rc = 0;
            goto out;
        }
        if (!got) { r.err = ECHILD; strcpy(r.step, "set-up (child died)"); }
        close(startpipe[1]);
        startpipe[1] = -1;
        rc = report_reaped(res, pid, pidfd, &r);
        goto close_err;
    }
    if (await_exec(errpipe[0], &r)) {
        rc = report_reaped(res, pid, pidfd, &r);
        goto close_err;
    }
    res->pidfd = pidfd;
    rc = 0;

close_err:
    close(errpipe[0]);
    if (startpipe[1] >= 0) close(startpipe[1]);
out:
    if (plan.caps) cap_free(plan.caps);
    free(plan.pid_slot);
    free(plan.envp);
    return rc;
}

int cleave_spawn_start(struct cleave_spawn_result *res) {
    char go = 1;
    ssize_t w;
    do { w = write(res->start_fd, &go, 1); } while (w < 0 && errno == EINTR);
    int err = errno;
    close(res->start_fd);
    res->start_fd = -1;
    return w == 1 ? 0 : (w < 0 ? -err : -EPIPE);
}

int cleave_spawn_release(struct cleave_spawn_result *res) {
    ssize_t w = 1;
    if (res->start_fd >= 0) { /* not already started by cleave_spawn_start */
        int rc = cleave_spawn_start(res);
        if (rc < 0) { w = -1; errno = -rc; }
    }
    struct child_report r;
    int failed = await_exec(res->report_fd, &r);
    close(res->report_fd);
    res->report_fd = -1;
    if (!failed && w == 1) return 0;
    if (!failed) { r.err = w < 0 ? errno : EPIPE; strcpy(r.step, "release"); }
    return report_reaped(res, res->pid, res->pidfd, &r);
}

void cleave_spawn_abandon(struct cleave_spawn_result *res) {
    if (res->start_fd >= 0) close(res->start_fd);
    if (res->report_fd >= 0) close(res->report_fd);
    res->start_fd = res->report_fd = -1;
}
