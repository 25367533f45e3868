/* A workload for the teardown-helper tests, compiled by the tests with cc.
 *   env                     print argv, the environment (and whether environ is still the
 *                           kernel's), auxiliary-vector values, then a forked child's
 *                           environment as /usr/bin/env sees it
 *   drop                    (root) switch to uid/gid 65534 without exec, print the helper's pid, wait
 *   attack FILE             (root, x86_64) switch to 65534, write code over the helper's next
 *                           instructions that creates FILE, wake the helper, report how it ended,
 *                           exit 42
 *   fork-touch MIB          fork a child that touches MIB MiB; print both pids; wait
 *   alloc-exec MIB CMD...   touch MIB MiB, print "ready <pid>", exec CMD without LD_PRELOAD
 *   closefrom-exec CMD...   close every descriptor from 3 up (the exec pipe among them), print
 *                           "closed <helper>", wait for SIGUSR1, exec CMD
 * The helper's pid comes from the preloaded library (cleave_teardown_helper_pid). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static pid_t helper_pid(void) {
    pid_t (*fn)(void) = (pid_t(*)(void))dlsym(RTLD_DEFAULT, "cleave_teardown_helper_pid");
    return fn ? fn() : 0;
}

static void touch(size_t mib) {
    size_t size = mib << 20;
    volatile char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(2); }
    for (size_t i = 0; i < size; i += 4096) p[i] = 1;
}

static void become_nobody(void) {
    if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) {
        perror("switch to 65534");
        exit(3);
    }
}

static int env_mode(int argc, char **argv, char **envp) {
    fprintf(stderr, "helper=%d\n", (int)helper_pid());
    for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
    printf("environ-is-initial=%s\n", (environ == envp && envp == argv + argc + 1) ? "yes" : "no");
    for (char **e = environ; *e; e++) printf("env=%s\n", *e);
    /* The auxiliary vector follows the initial environment's NULL. */
    char **end = envp;
    while (*end) end++;
    int consistent = 1;
    for (unsigned long *a = (unsigned long *)(end + 1); a[0] != AT_NULL; a += 2) {
        /* glibc answers AT_HWCAP/AT_HWCAP2 from its own copies (dl_hwcap): compare the rest. */
        if (a[0] != AT_HWCAP && a[0] != AT_HWCAP2 && getauxval(a[0]) != a[1]) consistent = 0;
        switch (a[0]) {
        case AT_PHENT: case AT_PHNUM: case AT_PAGESZ: case AT_FLAGS: case AT_UID: case AT_EUID:
        case AT_GID: case AT_EGID: case AT_CLKTCK: case AT_HWCAP: case AT_HWCAP2: case AT_SECURE:
            printf("auxv[%lu]=%lu\n", a[0], a[1]);
            break;
        case AT_EXECFN: case AT_PLATFORM:
            printf("auxv[%lu]=%s\n", a[0], (const char *)a[1]);
            break;
        }
    }
    printf("auxv-consistent=%s\n", consistent ? "yes" : "no");
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        char *args[] = {"/usr/bin/env", NULL};
        dup2(1, 1);
        execve(args[0], args, environ);
        _exit(127);
    }
    int status;
    waitpid(child, &status, 0);
    return 0;
}

static int drop_mode(void) {
    pid_t helper = helper_pid();
    become_nobody();
    printf("helper %d\n", (int)helper);
    fflush(stdout);
    for (;;) pause();
    return 0;
}

#if defined(__x86_64__)
static char target_file[512];

/* The helper's instruction pointer while it sleeps in ppoll, from /proc/<pid>/syscall
 * ("nr args... sp pc"): the next instruction it runs when ppoll returns. */
static unsigned long helper_pc(pid_t helper) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/syscall", (int)helper);
    for (int i = 0; i < 5000; i++) {
        FILE *f = fopen(path, "r");
        if (!f) return 0;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        if (atol(buf) == SYS_ppoll) {
            char *last = strrchr(buf, ' ');
            return last ? strtoul(last + 1, NULL, 16) : 0;
        }
        usleep(1000);
    }
    return 0;
}

static int attack_mode(const char *file) {
    snprintf(target_file, sizeof target_file, "%s", file);
    pid_t helper = helper_pid();
    if (helper <= 0) { printf("no-helper\n"); return 4; }
    unsigned long pc = helper_pc(helper);
    if (!pc) { printf("no-pc\n"); return 5; }
    become_nobody();
    /* openat(AT_FDCWD, target_file, O_WRONLY|O_CREAT, 0644); exit(0) */
    unsigned char code[64];
    size_t n = 0;
    code[n++] = 0x48; code[n++] = 0xbe; /* movabs rsi, imm64 */
    uint64_t addr = (uint64_t)(uintptr_t)target_file;
    memcpy(code + n, &addr, 8); n += 8;
    const unsigned char rest[] = {
        0xbf, 0x9c, 0xff, 0xff, 0xff,       /* mov edi, -100 */
        0xba, 0x41, 0x00, 0x00, 0x00,       /* mov edx, 0x41 */
        0x41, 0xba, 0xa4, 0x01, 0x00, 0x00, /* mov r10d, 0644 */
        0xb8, 0x01, 0x01, 0x00, 0x00,       /* mov eax, 257 (openat) */
        0x0f, 0x05,                         /* syscall */
        0x31, 0xff,                         /* xor edi, edi */
        0xb8, 0x3c, 0x00, 0x00, 0x00,       /* mov eax, 60 (exit) */
        0x0f, 0x05,                         /* syscall */
    };
    memcpy(code + n, rest, sizeof rest); n += sizeof rest;
    unsigned long page = pc & ~4095UL;
    if (mprotect((void *)page, 8192, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) { perror("mprotect"); return 6; }
    memcpy((void *)pc, code, n);
    __builtin___clear_cache((char *)pc, (char *)pc + n);
    /* Wake the helper: closing every descriptor from 3 up closes the exec pipe. */
    syscall(SYS_close_range, 3, ~0U, 0);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    while (waitid(P_PID, (id_t)helper, &info, WEXITED | __WALL) != 0 && errno == EINTR) {}
    if (info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED) printf("helper-signal %d\n", info.si_status);
    else printf("helper-exit %d\n", info.si_status);
    fflush(stdout);
    return 42;
}
#endif

static int fork_touch_mode(size_t mib) {
    pid_t child = fork();
    if (child == 0) {
        touch(mib);
        printf("child %d helper %d\n", (int)getpid(), (int)helper_pid());
        fflush(stdout);
        for (;;) pause();
    }
    printf("parent %d helper %d\n", (int)getpid(), (int)helper_pid());
    fflush(stdout);
    int status;
    waitpid(child, &status, 0);
    return 0;
}

static int alloc_exec_mode(size_t mib, char **cmd) {
    touch(mib);
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    unsetenv("LD_PRELOAD");
    execvp(cmd[0], cmd);
    perror("execvp");
    return 127;
}

static int closefrom_exec_mode(char **cmd) {
    pid_t helper = helper_pid();
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    syscall(SYS_close_range, 3, ~0U, 0);
    printf("closed %d\n", (int)helper);
    fflush(stdout);
    int sig;
    sigwait(&usr1, &sig);
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    execvp(cmd[0], cmd);
    perror("execvp");
    return 127;
}

int main(int argc, char **argv, char **envp) {
    if (argc >= 2 && !strcmp(argv[1], "env")) return env_mode(argc, argv, envp);
    /* The tests end the waiting modes with SIGTERM: do not inherit a blocked one. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (argc >= 2 && !strcmp(argv[1], "drop")) return drop_mode();
#if defined(__x86_64__)
    if (argc >= 3 && !strcmp(argv[1], "attack")) return attack_mode(argv[2]);
#endif
    if (argc >= 3 && !strcmp(argv[1], "fork-touch")) return fork_touch_mode(strtoul(argv[2], NULL, 10));
    if (argc >= 3 && !strcmp(argv[1], "closefrom-exec")) return closefrom_exec_mode(argv + 2);
    if (argc >= 4 && !strcmp(argv[1], "alloc-exec")) return alloc_exec_mode(strtoul(argv[2], NULL, 10), argv + 3);
    fprintf(stderr, "usage: %s env|drop|attack FILE|fork-touch MIB|alloc-exec MIB CMD...\n", argv[0]);
    return 2;
}
