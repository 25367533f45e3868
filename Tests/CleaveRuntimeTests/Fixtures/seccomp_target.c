/* Target of the seccomp tests of `cleave attach`, built with -static.
 * Usage: seccomp_target ACTION NR MASK MIB
 * Touches MIB MiB, installs a seccomp filter that returns ACTION (kill | errno | trap | trace |
 * notif | none: no filter) for system call NR when its first argument has a bit of MASK (0: any
 * call NR), everything else allowed, prints "ready <pid> <mappings>", then answers each byte c
 * read from descriptor 3 with a line "echo <c>" and exits 9 at 'q' or end of file. After the
 * filter only read, write and exit_group run here: a kill or a refusal the filter causes comes
 * from the injection. */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static unsigned int action_of(const char *name) {
    if (!strcmp(name, "kill")) return SECCOMP_RET_KILL_PROCESS;
    if (!strcmp(name, "errno")) return SECCOMP_RET_ERRNO | 1; /* EPERM */
    if (!strcmp(name, "trap")) return SECCOMP_RET_TRAP;
    if (!strcmp(name, "trace")) return SECCOMP_RET_TRACE;
    if (!strcmp(name, "notif")) return SECCOMP_RET_USER_NOTIF;
    fprintf(stderr, "seccomp_target: unknown action %s\n", name);
    exit(2);
}

static int mappings(void) {
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f) return -1;
    int n = 0, c;
    while ((c = getc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: seccomp_target kill|errno|trap|trace|notif|none NR MASK MIB\n");
        return 2;
    }
    size_t bytes = (size_t)atol(argv[4]) << 20;
    char *mem = bytes ? malloc(bytes) : NULL;
    for (size_t off = 0; off < bytes; off += 4096) mem[off] = 1;
    char line[64];
    int maps = mappings(); /* before the filter: from here on, only read, write and exit_group */
    if (strcmp(argv[1], "none")) {
        unsigned int action = action_of(argv[1]), nr = (unsigned int)atoi(argv[2]);
        unsigned int mask = (unsigned int)strtoul(argv[3], NULL, 0);
        struct sock_filter filter[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 3),
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
            BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, mask ? mask : ~0u, 0, mask ? 1 : 0),
            BPF_STMT(BPF_RET | BPF_K, action),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        if (!mask) filter[3] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0);
        struct sock_fprog prog = {sizeof filter / sizeof filter[0], filter};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return perror("PR_SET_NO_NEW_PRIVS"), 2;
        /* USER_NOTIF needs a listener; it stays open here, and nobody answers. */
        unsigned int flags = action == SECCOMP_RET_USER_NOTIF ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) < 0) return perror("seccomp"), 2;
    }
    int n = snprintf(line, sizeof line, "ready %d %d\n", (int)getpid(), maps);
    if (write(1, line, (size_t)n) != n) return 3;
    for (;;) {
        char c;
        if (read(3, &c, 1) != 1 || c == 'q') break;
        n = snprintf(line, sizeof line, "echo %c\n", c);
        if (write(1, line, (size_t)n) != n) return 3;
    }
    if (mem) mem[0] = 2;
    return 9;
}
