/* The helper gives up everything it could be made to misuse. It shares the
 * workload's memory, so the workload can rewrite the helper's stack or the
 * code it runs next: the helper must hold nothing the workload could not
 * hold itself. Credentials are per task, so a root workload that later drops
 * to another user without exec would otherwise leave a root helper behind.
 * Raw system calls only: glibc's set*id would signal the workload's threads. */
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/syscall.h>

#include "helper_confine.h"
#include "helper_fn.h"
#include "raw_syscall.h"

#if defined(__x86_64__)
#define CLEAVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define CLEAVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#define ALLOW(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

/* Exactly the system calls the helper makes once the filter is in: its wait
 * (ppoll, and read to drain the fallback's signalfd), the exec-or-stray-close
 * probe (pread64 of two statm files), getppid, the handshake's futex wake,
 * exit. restart_syscall: a ppoll with a timeout interrupted by a stop or the
 * cgroup freezer is resumed through it. Anything else kills the helper — and
 * only the helper: it is its own thread group (CLONE_VM without
 * CLONE_THREAD), so SECCOMP_RET_KILL_PROCESS never reaches the workload. */
#define HELPER_FILTER_HEAD \
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)), \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, CLEAVE_AUDIT_ARCH, 1, 0), \
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS), \
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)), \
    HELPER_FILTER_X32 \
    ALLOW(__NR_ppoll), \
    ALLOW(__NR_pread64), \
    ALLOW(__NR_read), \
    ALLOW(__NR_getppid), \
    ALLOW(__NR_futex), \
    ALLOW(__NR_exit), \
    ALLOW(__NR_exit_group), \
    ALLOW(__NR_restart_syscall),

#if defined(__x86_64__)
/* x32 system calls share the arch value: refuse the whole range. */
#define HELPER_FILTER_X32 \
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000 /* __X32_SYSCALL_BIT */, 0, 1), \
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
#else
#define HELPER_FILTER_X32
#endif

/* Allows system call nr only when its argument arg (64 bits, little-endian
 * halves) equals value; kills otherwise. */
#define ARG_LO(arg) (offsetof(struct seccomp_data, args) + 8 * (arg))
#define ALLOW_IF_ARG(nr, arg, value) \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 6), \
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(arg)), \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (value), 0, 2), \
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(arg) + 4), \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), \
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS), \
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

/* Allows system call nr only when argument a equals va and argument b equals
 * vb; kills otherwise. */
#define ALLOW_IF_ARGS(nr, a, va, b, vb) \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 10), \
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(a)), \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (va), 0, 7), \
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(a) + 4), \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 5), \
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(b)), \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (vb), 0, 3), \
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(b) + 4), \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), \
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW), \
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)

static const struct sock_filter helper_filter[] = {
    HELPER_FILTER_HEAD
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
};

/* With the parallel release (release_workers.c), four more, each as narrow as
 * it can be. The workload can write code into the helper while it runs, so
 * each is judged by what that code could do with it:
 * - madvise, MADV_DONTNEED only: drops pages of the shared address space,
 *   which the workload can do to itself anyway; after it is gone, nobody else
 *   uses them.
 * - clone, flags exactly CLONE_VM (exit signal 0): a child with the same
 *   memory, cgroup, credentials and this filter (inherited), nothing new;
 *   no namespace, thread or file-table flag passes, and clone3 (whose flags
 *   are in memory, out of the filter's reach) stays refused. Their number is
 *   bounded by the cgroup's pids.max like the workload's own.
 * - wait4: reaps the helper's own children, the workers.
 * - sched_setscheduler, only (0, SCHED_IDLE): a worker lowers its own
 *   priority; no other task's, and no policy but the lowest.
 * - sched_yield: a worker gives up the CPU it holds, once lowered. */
static const struct sock_filter release_filter[] = {
    HELPER_FILTER_HEAD
    ALLOW(__NR_wait4),
    ALLOW_IF_ARG(__NR_madvise, 2, 4 /* MADV_DONTNEED */),
    ALLOW_IF_ARG(__NR_clone, 0, 0x00000100 /* CLONE_VM */),
    ALLOW_IF_ARGS(__NR_sched_setscheduler, 0, 0 /* this task */, 1, 5 /* SCHED_IDLE */),
    ALLOW(__NR_sched_yield),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
};

#define CAP_BIT(set, cap) (((set)[(cap) / 32] >> ((cap) % 32)) & 1u)

HELPER_FN static int fail(int *step, int which, long rc) {
    *step = which;
    return (int)rc;
}

HELPER_FN static long get_caps(struct __user_cap_data_struct data[2]) {
    struct __user_cap_header_struct header;
    header.version = _LINUX_CAPABILITY_VERSION_3;
    header.pid = 0;
    return raw_syscall2(__NR_capget, &header, data);
}

HELPER_FN static long set_caps(const struct __user_cap_data_struct data[2]) {
    struct __user_cap_header_struct header;
    header.version = _LINUX_CAPABILITY_VERSION_3;
    header.pid = 0;
    return raw_syscall2(__NR_capset, &header, data);
}

HELPER_FN int cleave_helper_confine(unsigned int drop_uid, unsigned int drop_gid, int *step) {
    long rc;
    /* A core dump would write the whole shared address space, and before
     * Linux 5.16 it killed every process sharing the mm — the workload too. */
    unsigned long no_core[2] = {0, 0};
    if ((rc = raw_syscall4(__NR_prlimit64, 0, 4 /* RLIMIT_CORE */, no_core, 0)) < 0) return fail(step, CLEAVE_STEP_RLIMIT_CORE, rc);

    struct __user_cap_data_struct caps[2];
    if ((rc = get_caps(caps)) < 0) return fail(step, CLEAVE_STEP_CAPGET, rc);
    unsigned int permitted[2] = {caps[0].permitted, caps[1].permitted};
    int switched = 0;
    if (permitted[0] | permitted[1] | caps[0].inheritable | caps[1].inheritable) {
        /* Raise what we may into the effective set, to use it for the drop. */
        caps[0].effective = caps[0].permitted;
        caps[1].effective = caps[1].permitted;
        if ((rc = set_caps(caps)) < 0) return fail(step, CLEAVE_STEP_CAPSET, rc);
        /* In a user namespace the overflow ids may be unmapped (EINVAL) and
         * setgroups denied (EPERM, /proc/<pid>/setgroups): then the ids stay
         * (they cannot be changed by the workload either) and the capability
         * drop and the filter below still hold. */
        if (CAP_BIT(permitted, CAP_SETGID)) {
            rc = raw_syscall2(__NR_setgroups, 0, 0);
            if (rc < 0 && !(rc == -1 /* EPERM */ && raw_syscall2(__NR_getgroups, 0, 0) == 0)) return fail(step, CLEAVE_STEP_SETGROUPS, rc);
            rc = raw_syscall3(__NR_setresgid, drop_gid, drop_gid, drop_gid);
            if (rc < 0 && rc != -22 /* EINVAL: unmapped */) return fail(step, CLEAVE_STEP_SETRESGID, rc);
            if (rc == 0) switched = 1;
        }
        if (CAP_BIT(permitted, CAP_SETPCAP)) {
            /* PR_CAPBSET_READ says EINVAL past the kernel's last capability. */
            for (int cap = 0; cap < 64; cap++) {
                rc = raw_syscall2(__NR_prctl, PR_CAPBSET_READ, cap);
                if (rc == -22 /* EINVAL */) break;
                if (rc == 1 && (rc = raw_syscall2(__NR_prctl, PR_CAPBSET_DROP, cap)) < 0) return fail(step, CLEAVE_STEP_CAPBSET_DROP, rc);
            }
        }
        if (CAP_BIT(permitted, CAP_SETUID)) {
            rc = raw_syscall3(__NR_setresuid, drop_uid, drop_uid, drop_uid);
            if (rc < 0 && rc != -22 /* EINVAL: unmapped */) return fail(step, CLEAVE_STEP_SETRESUID, rc);
            if (rc == 0) switched = 1;
        }
        /* setresuid clears the sets only without SECBIT_KEEP_CAPS and
         * SECBIT_NO_SETUID_FIXUP, which the workload may have set: clear them here. */
        caps[0].effective = caps[0].permitted = caps[0].inheritable = 0;
        caps[1].effective = caps[1].permitted = caps[1].inheritable = 0;
        if ((rc = set_caps(caps)) < 0) return fail(step, CLEAVE_STEP_CAPSET, rc);
        raw_syscall2(__NR_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL); /* follows permitted; EINVAL before 4.3 */
        if ((rc = get_caps(caps)) < 0) return fail(step, CLEAVE_STEP_CAPGET, rc);
        if (caps[0].effective | caps[1].effective | caps[0].permitted | caps[1].permitted | caps[0].inheritable | caps[1].inheritable)
            return fail(step, CLEAVE_STEP_CAPS_LEFT, -1 /* EPERM */);
    }
    if (switched) {
        /* The kernel set the (shared) mm's dumpable flag to fs.suid_dumpable at
         * the switch. Left at 1 ("debug"), any process of the overflow user could
         * ptrace this helper, and through it the workload's memory. */
        if (raw_syscall1(__NR_prctl, PR_GET_DUMPABLE) == 1 &&
            (rc = raw_syscall2(__NR_prctl, PR_SET_DUMPABLE, 0)) < 0)
            return fail(step, CLEAVE_STEP_DUMPABLE, rc);
    }
    if ((rc = raw_syscall5(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) < 0) return fail(step, CLEAVE_STEP_NO_NEW_PRIVS, rc);
    return 0;
}

HELPER_FN int cleave_helper_install_filter(int parallel_release, int *step) {
    struct sock_fprog prog;
    if (parallel_release) {
        prog.len = (unsigned short)(sizeof release_filter / sizeof release_filter[0]);
        prog.filter = (struct sock_filter *)release_filter;
    } else {
        prog.len = (unsigned short)(sizeof helper_filter / sizeof helper_filter[0]);
        prog.filter = (struct sock_filter *)helper_filter;
    }
    long rc = raw_syscall3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
    if (rc == -38 /* ENOSYS: before 3.17 */) rc = raw_syscall3(__NR_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
    if (rc < 0) return fail(step, CLEAVE_STEP_SECCOMP, rc);
    return 0;
}
