#ifndef CLEAVE_EXIT_KEEPER_H
#define CLEAVE_EXIT_KEEPER_H

/* cleave's own exit, off its manager's path. A process's exit unmaps its
 * address space before its parent is told (for cleave's 34 MB image a good
 * part of the manager's wait). The keeper is a CLONE_VM child of the caller,
 * in the caller's cgroup, that holds that address space and nothing else: no
 * descriptor but a pidfd of the caller, every signal blocked (SIGKILL aside),
 * its cwd "/", SCHED_IDLE. When the caller has exited, the keeper waits 5 ms
 * (off the run queue while the caller's parent wakes), then exits on CPU time
 * nothing else wants, and the unmapping is the keeper's. It is named
 * CLEAVE_EXIT_KEEPER_NAME and, like any orphan, is reparented to the nearest
 * subreaper or init.
 *
 * Returns the keeper's pid, or -errno (-EALREADY: this process has one). At
 * most one per process image; never call it from a process that will exec. */
int cleave_start_exit_keeper(void);

#endif
