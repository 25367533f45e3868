/* A classic-BPF interpreter for seccomp filters read from another process: what would the
 * filter return for a system call cleave is about to make there (seccomp_bpf.c). */
#ifndef CLEAVE_SECCOMP_BPF_H
#define CLEAVE_SECCOMP_BPF_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

/* struct seccomp_data as 16 32-bit words (nr, arch, instruction_pointer lo/hi, args[i] lo/hi),
 * each known or not: an argument cleave cannot know before the call (an address in a mapping
 * not made yet, a descriptor number) is unknown, and so is the instruction pointer. */
struct bpf_call {
    uint32_t words[16];
    uint16_t known; /* bit i: words[i] is known */
};

void bpf_call_init(struct bpf_call *call, int nr, uint32_t arch);
void bpf_call_arg(struct bpf_call *call, int index, uint64_t value);

/* At most this many distinct return values per program and call. */
#define BPF_MAX_RETS 8

struct bpf_rets {
    uint32_t ret[BPF_MAX_RETS];
    int count;
};

#define BPF_EVAL_INVALID -1     /* an instruction seccomp does not accept, or out of bounds */
#define BPF_EVAL_TOO_COMPLEX -2 /* too many paths through unknown values, or too many return values */
#define BPF_EVAL_UNKNOWN_RET -3 /* RET A with A computed from an unknown value */
#define BPF_EVAL_NO_MEMORY -4

/* Every value the program can return for `call`: each branch on an unknown value is followed
 * both ways, so the set holds every return the kernel could compute (and maybe more). The
 * program is untrusted: every instruction and jump is checked, jumps only go forward, and the
 * work is one visit per instruction. 0, or BPF_EVAL_*. */
int bpf_evaluate(const struct sock_filter *prog, size_t len, const struct bpf_call *call, struct bpf_rets *out);

/* The kernel's order of seccomp actions: whether `a` wins over `b` (is more restrictive). */
int bpf_action_wins(uint32_t a, uint32_t b);

#endif
