#ifndef CLEAVE_AGENT_SYS_H
#define CLEAVE_AGENT_SYS_H
#include <sys/types.h>

/* pidfd_open(2) with close-on-exec semantics (pidfds are always O_CLOEXEC);
   -1 with errno on failure (ESRCH: the process is gone). */
int cleave_agent_pidfd_open(pid_t pid);

/* pipe2(O_CLOEXEC | O_NONBLOCK): the watcher's stop pipe. */
int cleave_agent_pipe(int fds[2]);

#endif
