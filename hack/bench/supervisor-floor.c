// The least a supervisor does, in C: optionally make a cgroup, start PROGRAM in it
// (clone3 CLONE_INTO_CGROUP), wait, remove the cgroup, relay the status. A yardstick for
// `cleave run` in hack/bench/floors.py, not part of cleave.
// Usage: supervisor-floor [--cgroup PARENT] PROGRAM [ARG...]
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  char path[4096];
  int first = 1, cgroup = -1;
  if (argc > 2 && strcmp(argv[1], "--cgroup") == 0) {
    snprintf(path, sizeof path, "%s/floor-%d", argv[2], (int)getpid());
    if (mkdir(path, 0755) != 0 || (cgroup = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
      perror(path);
      return 125;
    }
    first = 3;
  }
  if (first >= argc) {
    fprintf(stderr, "usage: supervisor-floor [--cgroup PARENT] PROGRAM [ARG...]\n");
    return 125;
  }
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.exit_signal = SIGCHLD;
  if (cgroup >= 0) {
    args.flags = CLONE_INTO_CGROUP;
    args.cgroup = (unsigned)cgroup;
  }
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) {
    execvp(argv[first], argv + first);
    _exit(127);
  }
  int status = 0;
  while (pid > 0 && waitpid((pid_t)pid, &status, 0) < 0) {
  }
  if (cgroup >= 0 && rmdir(path) != 0)
    perror(path);
  if (pid < 0)
    return perror("clone3"), 125;
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
