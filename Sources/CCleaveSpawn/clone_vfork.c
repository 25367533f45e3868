/* clone3 as vfork: the child shares cleave's memory and runs on a stack of its own until it
 * execs or exits, and the parent sleeps until then (CLONE_VM | CLONE_VFORK, as glibc's
 * posix_spawn). Nothing of cleave's address space is copied: a fork-style clone3 copied the page
 * tables of the 34 MiB executable's written pages, and cleave then took a copy-on-write fault on
 * every page it wrote afterwards (perf, the spawn benchmark).
 *
 * A child running on its own stack cannot return through the C function that made the system
 * call, so the system call and the jump to the child's function are one piece of assembly. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleave_syscalls.h"
#include "spawn_internal.h"

/* Room for the child's set-up (libc's sigaction, libcap's cap_set_proc, execve's arguments are
 * the kernel's): glibc's posix_spawn sizes its stack the same way, from 32 KiB. */
#define CHILD_STACK_SIZE (64 * 1024)

#if defined(__x86_64__)
static long clone3_run(struct clone_args *args, void (*fn)(const struct child_plan *), const struct child_plan *plan) {
    long ret;
    register void *r8 __asm__("r8") = (void *)fn;
    register const void *r9 __asm__("r9") = plan;
    __asm__ volatile(
        "syscall\n\t"
        "test %%rax, %%rax\n\t"
        "jnz 1f\n\t"
        /* The child: its own stack (clone_args.stack), registers as the parent's. */
        "xor %%ebp, %%ebp\n\t"
        "mov %%r9, %%rdi\n\t"
        "and $-16, %%rsp\n\t"
        "call *%%r8\n\t"
        /* fn never returns; if it did, leave without touching the parent's stack. */
        "mov $127, %%edi\n\t"
        "mov %[exit_nr], %%eax\n\t"
        "syscall\n\t"
        "hlt\n"
        "1:\n\t"
        : "=a"(ret)
        : "0"((long)SYS_clone3), "D"(args), "S"(sizeof *args), "r"(r8), "r"(r9), [exit_nr] "i"(SYS_exit_group)
        : "rcx", "r11", "memory");
    return ret;
}
#endif

pid_t cleave_clone3_vfork(int cgroup_fd, int *pidfd, const struct child_plan *plan) {
#if defined(__x86_64__)
    void *stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return -1;
    /* A guard page under the stack: an overflow faults instead of writing cleave's memory. */
    if (mprotect(stack, (size_t)sysconf(_SC_PAGESIZE), PROT_NONE) != 0) {
        int err = errno;
        munmap(stack, CHILD_STACK_SIZE);
        errno = err;
        return -1;
    }
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0);
    args.pidfd = (uint64_t)(uintptr_t)pidfd;
    args.exit_signal = SIGCHLD;
    args.stack = (uint64_t)(uintptr_t)stack;
    args.stack_size = CHILD_STACK_SIZE;
    args.cgroup = cgroup_fd >= 0 ? (uint64_t)cgroup_fd : 0;
    /* The child shares errno (and everything else) with this thread: take ours after it is gone. */
    long ret = clone3_run(&args, cleave_child_exec, plan);
    munmap(stack, CHILD_STACK_SIZE);
    if (ret < 0) { errno = (int)-ret; return -1; }
    return (pid_t)ret;
#else
    (void)cgroup_fd; (void)pidfd; (void)plan;
    errno = ENOSYS;
    return -1;
#endif
}
