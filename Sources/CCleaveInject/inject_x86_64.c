/* x86_64: registers, the syscall instruction and the helper's trampoline. */
#if defined(__x86_64__)
#include <elf.h>
#include <errno.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include "inject_arch.h"

const unsigned char inject_syscall_insn[] = {0x0f, 0x05};
const size_t inject_syscall_insn_len = 2;

/* 0:  syscall
 * 2:  test rax, rax ; jne 1c        (the parent never gets here: it is single-stepped)
 * 7:  mov rdi, r12                  (the argument block)
 * a:  and rsp, -16 ; call r13       (cleave_helper_main, which never returns)
 * 11: mov eax, 60 ; xor edi, edi ; syscall ; jmp 11   (exit, should it ever return)
 * 1c: int3 */
const unsigned char inject_trampoline[] = {
    0x0f, 0x05, 0x48, 0x85, 0xc0, 0x75, 0x15, 0x4c, 0x89, 0xe7, 0x48, 0x83, 0xe4, 0xf0, 0x41,
    0xff, 0xd5, 0xb8, 0x3c, 0x00, 0x00, 0x00, 0x31, 0xff, 0x0f, 0x05, 0xeb, 0xf5, 0xcc,
};
const size_t inject_trampoline_len = sizeof inject_trampoline;

int inject_get_regs(pid_t tid, inject_regs *regs) {
    struct iovec iov = {regs, sizeof *regs};
    if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) != 0) return -errno;
    if (iov.iov_len != sizeof *regs) return -EINVAL; /* a 32-bit task */
    if (regs->cs != 0x33) return -EINVAL;            /* running 32-bit code (__USER_CS is 0x33) */
    return 0;
}

int inject_set_regs(pid_t tid, const inject_regs *regs) {
    struct iovec iov = {(void *)regs, sizeof *regs};
    return ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &iov) == 0 ? 0 : -errno;
}

void inject_prepare_syscall(inject_regs *regs, unsigned long insn, long nr, const long args[6]) {
    regs->rip = insn;
    regs->rax = (unsigned long)nr;
    /* -1: "not in a system call", so the kernel's restart logic leaves rip and rax alone
     * when the thread resumes from the stop it was interrupted in. */
    regs->orig_rax = (unsigned long)-1;
    regs->rdi = (unsigned long)args[0];
    regs->rsi = (unsigned long)args[1];
    regs->rdx = (unsigned long)args[2];
    regs->r10 = (unsigned long)args[3];
    regs->r8 = (unsigned long)args[4];
    regs->r9 = (unsigned long)args[5];
}

long inject_syscall_result(const inject_regs *regs) { return (long)regs->rax; }

unsigned long inject_pc(const inject_regs *regs) { return regs->rip; }

void inject_set_clone_entry(inject_regs *regs, unsigned long entry, unsigned long arg) {
    regs->r12 = arg;
    regs->r13 = entry;
}

void inject_clone_args(long args[6], unsigned long flags, unsigned long stack_top, unsigned long child_tid) {
    args[0] = (long)flags;
    args[1] = (long)stack_top;
    args[2] = 0;               /* parent_tid */
    args[3] = (long)child_tid; /* child_tid, cleared and woken at the helper's exit */
    args[4] = 0;               /* tls: none, as the preloaded helper */
    args[5] = 0;
}
#endif
