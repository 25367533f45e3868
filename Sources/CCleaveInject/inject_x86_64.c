/* x86_64: registers, the syscall instruction and the helper's trampoline. */
#if defined(__x86_64__)
#include <elf.h>
#include <errno.h>
#include <sys/ptrace.h>
#include <string.h>
#include <sys/uio.h>

#include "inject_arch.h"

const unsigned char inject_syscall_insn[] = {0x0f, 0x05};
const size_t inject_syscall_insn_len = 2;

/* Assembled from (intel syntax):
 * 00 sys:    syscall ; jmp resume
 * 04 clone:  syscall ; test rax, rax ; jnz resume
 * 0b         mov rdi, r12 ; and rsp, -16 ; call r13      (child: cleave_helper_main(args), never returns)
 * 15 1:      mov eax, 60 ; xor edi, edi ; syscall ; jmp 1b
 * 20 resume: cmp qword ptr [rip + MASK], -1 ; je 2f
 * 2a         mov eax, 14 ; mov edi, 2 ; lea rsi, [rip + MASK] ; xor edx, edx ; mov r10d, 8 ; syscall
 * 45 2:      lea rsp, [rip + CTX] ; pop r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi ; popfq
 * 64         mov rsp, [rip + CTX + 16*8] ; jmp [rip + CTX + 17*8]
 * The red zone below the thread's rsp is never touched: the jump reads its target from memory. */
static const unsigned char trampoline[] = {
    0x0f, 0x05, 0xeb, 0x1c, 0x0f, 0x05, 0x48, 0x85, 0xc0, 0x75, 0x15, 0x4c, 0x89, 0xe7, 0x48, 0x83,
    0xe4, 0xf0, 0x41, 0xff, 0xd5, 0xb8, 0x3c, 0x00, 0x00, 0x00, 0x31, 0xff, 0x0f, 0x05, 0xeb, 0xf5,
    0x48, 0x83, 0x3d, 0x00, 0x00, 0x00, 0x00, 0xff, 0x74, 0x1b, 0xb8, 0x0e, 0x00, 0x00, 0x00, 0xbf,
    0x02, 0x00, 0x00, 0x00, 0x48, 0x8d, 0x35, 0x00, 0x00, 0x00, 0x00, 0x31, 0xd2, 0x41, 0xba, 0x08,
    0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x8d, 0x25, 0x00, 0x00, 0x00, 0x00, 0x41, 0x5f, 0x41, 0x5e,
    0x41, 0x5d, 0x41, 0x5c, 0x5d, 0x5b, 0x41, 0x5b, 0x41, 0x5a, 0x41, 0x59, 0x41, 0x58, 0x58, 0x59,
    0x5a, 0x5e, 0x5f, 0x9d, 0x48, 0x8b, 0x25, 0x00, 0x00, 0x00, 0x00, 0xff, 0x25, 0x00, 0x00, 0x00,
    0x00,
};

/* A rip-relative displacement at `field`, for an instruction ending at `end`. */
static int put_rel32(unsigned char *buf, unsigned long at, size_t field, size_t end, unsigned long target) {
    long rel = (long)(target - (at + end));
    if (rel != (long)(int)rel) return -1;
    int v = (int)rel;
    memcpy(buf + field, &v, 4);
    return 0;
}

size_t inject_build_trampoline(unsigned char *buf, unsigned long at, unsigned long mask_addr, unsigned long ctx_addr,
                               size_t *syscall_off, size_t *clone_off) {
    memcpy(buf, trampoline, sizeof trampoline);
    if (put_rel32(buf, at, 0x23, 0x28, mask_addr) || put_rel32(buf, at, 0x37, 0x3b, mask_addr) ||
        put_rel32(buf, at, 0x48, 0x4c, ctx_addr) || put_rel32(buf, at, 0x67, 0x6b, ctx_addr + 16 * 8) ||
        put_rel32(buf, at, 0x6d, 0x71, ctx_addr + 17 * 8))
        return 0;
    *syscall_off = 0x00;
    *clone_off = 0x04;
    return sizeof trampoline;
}

void inject_restarted_regs(const inject_regs *saved, inject_regs *out) {
    *out = *saved;
    if ((long)saved->orig_rax < 0) return;
    switch ((long)saved->rax) {
    case -512: /* ERESTARTSYS */
    case -513: /* ERESTARTNOINTR */
    case -514: /* ERESTARTNOHAND */
        out->rax = saved->orig_rax;
        out->rip -= 2;
        out->orig_rax = (unsigned long)-1;
        break;
    case -516: /* ERESTART_RESTARTBLOCK */
        out->rax = 219; /* __NR_restart_syscall */
        out->rip -= 2;
        out->orig_rax = (unsigned long)-1;
        break;
    }
}

void inject_resume_context(const inject_regs *saved, unsigned long ctx[INJECT_CTX_WORDS]) {
    inject_regs r;
    inject_restarted_regs(saved, &r);
    const unsigned long words[INJECT_CTX_WORDS] = {r.r15, r.r14, r.r13, r.r12, r.rbp, r.rbx, r.r11, r.r10, r.r9,
                                                   r.r8, r.rax, r.rcx, r.rdx, r.rsi, r.rdi, r.eflags, r.rsp, r.rip};
    memcpy(ctx, words, sizeof words);
}

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
