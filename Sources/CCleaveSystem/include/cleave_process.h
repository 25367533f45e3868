#ifndef CLEAVE_PROCESS_H
#define CLEAVE_PROCESS_H

#include <spawn.h>

/* Parent-side process calls that Swift's Glibc module does not import. */

/* Blocks `signals` in the calling thread and returns a close-on-exec
 * signalfd for them, or -1 with errno. */
int cleave_signalfd(const int *signals, int count);

/* Reads one signal from a signalfd: 1 when read, 0 when none is pending,
 * -1 with errno. `from_kernel` is 1 when the kernel sent it (e.g. a terminal). */
int cleave_signalfd_read(int fd, int *signo, int *from_kernel, int *sender_pid);

/* PR_SET_CHILD_SUBREAPER: orphaned descendants (teardown helpers) are
 * reparented to the caller, which can then reap them. */
int cleave_set_child_subreaper(void);

/* pipe2(O_CLOEXEC): 0 or -1 with errno. */
int cleave_pipe_cloexec(int fds[2]);

/* pidfd_open(2) (close-on-exec): a handle that never names a recycled pid.
 * The fd, or -1 with errno (ESRCH: no such process). */
int cleave_pidfd_open(int pid);

/* Waits up to `timeout_ns` for `pidfd` to become readable (its process has exited):
 * 1 when it has, 0 at the timeout, -1 with errno (ppoll's; EINTR is retried). */
int cleave_pidfd_wait(int pidfd, unsigned long long timeout_ns);

/* posix_spawn_file_actions_addclosefrom_np (glibc 2.34): the child closes
 * every descriptor from `lowfd` up before exec. 0 or an error number. */
int cleave_spawn_add_closefrom(posix_spawn_file_actions_t *actions, int lowfd);

/* pidfd_send_signal(2); 0 or -1 with errno. */
int cleave_pidfd_send_signal(int pidfd, int sig);

/* waitid(P_PIDFD); *status_out gets a waitpid(2)-style status word. 0 or -1 with errno. */
int cleave_waitid_pidfd(int pidfd, int *status_out, int options);

/* sched_setattr(2) of the calling thread: SCHED_OTHER, nice unchanged, and a slice of
 * `slice_ns` (Linux 6.12's EEVDF custom slice; older kernels ignore it for SCHED_OTHER).
 * 0 or -1 with errno. */
int cleave_set_fair_slice(unsigned long long slice_ns);

/* sched_setscheduler(2) of the calling thread to SCHED_IDLE (idle != 0) or back to
 * SCHED_OTHER (which needs CAP_SYS_NICE). 0 or -1 with errno. */
int cleave_set_sched_idle(int idle);

/* kcmp(2) KCMP_VM: 1 when processes `a` and `b` share one address space (CLONE_VM), 0 when
 * not, -1 with errno (needs ptrace access to both). */
int cleave_same_address_space(int a, int b);

#endif
