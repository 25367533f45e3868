/* What differs per architecture: the register file, the system-call instruction and the
 * trampoline the injected helper starts from. One small file per architecture
 * (inject_x86_64.c; an aarch64 port adds inject_aarch64.c with svc #0, x8 and x0-x5). */
#ifndef CLEAVE_INJECT_ARCH_H
#define CLEAVE_INJECT_ARCH_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/user.h>

#if defined(__x86_64__)
typedef struct user_regs_struct inject_regs;
#elif defined(__aarch64__)
typedef struct user_pt_regs inject_regs;
#endif

/* The system-call instruction, to find one in the target's vDSO. */
extern const unsigned char inject_syscall_insn[];
extern const size_t inject_syscall_insn_len;

/* Code written into the helper's page, built for the address `at` it lands at:
 * - at *syscall_off, a system-call instruction for the remote calls, followed by a jump to
 *   the resume sequence;
 * - at *clone_off, the one the clone runs: its child calls the entry point with the argument
 *   block (see inject_set_clone_entry) and exits, its parent jumps to the resume sequence;
 * - the resume sequence restores the signal mask saved at `mask_addr` (unless it still holds
 *   the sentinel ~0: nothing saved) and every register from the INJECT_CTX_WORDS at `ctx_addr`.
 * A thread single-stepped by cleave never reaches the jumps: they run only if cleave dies
 * mid-injection (the kernel detaches the thread), and then put it back as it was.
 * Returns the length (at most INJECT_TRAMPOLINE_MAX). */
#define INJECT_TRAMPOLINE_MAX 128
#define INJECT_CTX_WORDS 18
size_t inject_build_trampoline(unsigned char *buf, unsigned long at, unsigned long mask_addr, unsigned long ctx_addr,
                               size_t *syscall_off, size_t *clone_off);

/* The registers the thread must resume with if cleave dies: the saved ones, with an
 * interrupted system call restarted as the kernel restarts it when no handler runs. */
void inject_resume_context(const inject_regs *saved, unsigned long ctx[INJECT_CTX_WORDS]);

/* The same as registers: what the kernel leaves when it restarts the interrupted call. */
void inject_restarted_regs(const inject_regs *saved, inject_regs *out);

/* Reads and writes the stopped thread's registers (PTRACE_GETREGSET NT_PRSTATUS). Reading
 * fails with EINVAL for a thread that is not a native 64-bit one (an ia32 or x32 task). */
int inject_get_regs(pid_t tid, inject_regs *regs);
int inject_set_regs(pid_t tid, const inject_regs *regs);

/* Makes `regs` (a copy of the saved ones) execute system call `nr` with `args` at `insn`, and
 * not restart whatever system call the thread was interrupted in. */
void inject_prepare_syscall(inject_regs *regs, unsigned long insn, long nr, const long args[6]);
long inject_syscall_result(const inject_regs *regs);
unsigned long inject_pc(const inject_regs *regs);

/* The clone's child finds these in registers it inherits (see the trampoline). */
void inject_set_clone_entry(inject_regs *regs, unsigned long entry, unsigned long arg);

/* Clone's argument order differs per architecture (x86_64 has child_tid before tls). */
void inject_clone_args(long args[6], unsigned long flags, unsigned long stack_top, unsigned long child_tid);

#endif
