/* Runs a seccomp cBPF program, read from another process, over a system call cleave will make
 * there. The program is someone else's: nothing in it is trusted. Only the instructions the
 * kernel's seccomp_check_filter accepts are run, every jump target and memory slot is checked,
 * jumps go forward only, and the work is bounded. Values cleave cannot know before the call
 * are tracked as unknown; a branch on one is followed both ways, and where paths meet what
 * differs between them becomes unknown: the returns found include every one the kernel could
 * compute, in one visit per instruction whatever the program. */
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "seccomp_bpf.h"

struct bpf_state {
    uint32_t a, x, mem[BPF_MEMWORDS];
    uint16_t unknown_mem; /* bit i: mem[i] unknown (as every slot is before a store) */
    uint8_t unknown_a, unknown_x;
};

void bpf_call_init(struct bpf_call *call, int nr, uint32_t arch) {
    memset(call, 0, sizeof *call);
    call->words[0] = (uint32_t)nr;
    call->words[1] = arch;
    call->known = 0x3; /* nr and arch; the instruction pointer (words 2, 3) stays unknown */
}

void bpf_call_arg(struct bpf_call *call, int index, uint64_t value) {
    if (index < 0 || index > 5) return;
    /* Little-endian halves, as the kernel's seccomp_data on x86_64 and aarch64. */
    call->words[4 + 2 * index] = (uint32_t)value;
    call->words[5 + 2 * index] = (uint32_t)(value >> 32);
    call->known |= (uint16_t)(3u << (4 + 2 * index));
}

int bpf_action_wins(uint32_t a, uint32_t b) {
    /* The kernel compares the action bits as signed: KILL_PROCESS (0x80000000) lowest. */
    return (int32_t)(a & SECCOMP_RET_ACTION_FULL) < (int32_t)(b & SECCOMP_RET_ACTION_FULL);
}

static int add_ret(struct bpf_rets *out, uint32_t ret) {
    for (int i = 0; i < out->count; i++)
        if (out->ret[i] == ret) return 0;
    if (out->count == BPF_MAX_RETS) return BPF_EVAL_TOO_COMPLEX;
    out->ret[out->count++] = ret;
    return 0;
}

/* Where two paths meet, what differs between them becomes unknown. */
static void join(struct bpf_state *into, const struct bpf_state *s) {
    if (into->unknown_a || s->unknown_a || into->a != s->a) into->unknown_a = 1;
    if (into->unknown_x || s->unknown_x || into->x != s->x) into->unknown_x = 1;
    into->unknown_mem |= s->unknown_mem;
    for (int i = 0; i < BPF_MEMWORDS; i++)
        if (into->mem[i] != s->mem[i]) into->unknown_mem |= (uint16_t)(1u << i);
}

/* Hands state `s` on to instruction `to` (always ahead of the current one). */
static void flow(struct bpf_state *states, uint8_t *reached, uint32_t to, const struct bpf_state *s) {
    if (!reached[to]) {
        states[to] = *s;
        reached[to] = 1;
    } else {
        join(&states[to], s);
    }
}

/* A jump of `off` past pc+1 must land inside the program. */
static int jump_ok(uint32_t pc, uint64_t off, size_t len) { return (uint64_t)pc + 1 + off < (uint64_t)len; }

/* One pass in instruction order: every jump goes forward, so every path into an instruction
 * has been seen when it is reached, and the work is one visit per instruction. */
static int run(const struct sock_filter *prog, uint32_t len, const struct bpf_call *call, struct bpf_state *states,
               uint8_t *reached, struct bpf_rets *out) {
    memset(reached, 0, len);
    memset(&states[0], 0, sizeof states[0]);
    states[0].unknown_mem = 0xffff;
    reached[0] = 1;
    for (uint32_t pc = 0; pc < len; pc++) {
        if (!reached[pc]) continue;
        struct bpf_state s = states[pc];
        const struct sock_filter in = prog[pc];
        uint32_t k = in.k;
        int rc;
        switch (in.code) {
        case BPF_LD | BPF_W | BPF_ABS:
            if (k >= 64 || (k & 3)) return BPF_EVAL_INVALID;
            s.a = call->words[k / 4];
            s.unknown_a = !((call->known >> (k / 4)) & 1);
            break;
        case BPF_LD | BPF_W | BPF_LEN: /* sizeof(struct seccomp_data) */
            s.a = 64, s.unknown_a = 0;
            break;
        case BPF_LDX | BPF_W | BPF_LEN:
            s.x = 64, s.unknown_x = 0;
            break;
        case BPF_LD | BPF_IMM:
            s.a = k, s.unknown_a = 0;
            break;
        case BPF_LDX | BPF_IMM:
            s.x = k, s.unknown_x = 0;
            break;
        case BPF_LD | BPF_MEM:
            if (k >= BPF_MEMWORDS) return BPF_EVAL_INVALID;
            s.a = s.mem[k], s.unknown_a = (s.unknown_mem >> k) & 1;
            break;
        case BPF_LDX | BPF_MEM:
            if (k >= BPF_MEMWORDS) return BPF_EVAL_INVALID;
            s.x = s.mem[k], s.unknown_x = (s.unknown_mem >> k) & 1;
            break;
        case BPF_ST:
        case BPF_STX: {
            if (k >= BPF_MEMWORDS) return BPF_EVAL_INVALID;
            int from_x = in.code == BPF_STX;
            s.mem[k] = from_x ? s.x : s.a;
            if (from_x ? s.unknown_x : s.unknown_a) s.unknown_mem |= (uint16_t)(1u << k);
            else s.unknown_mem &= (uint16_t)~(1u << k);
            break;
        }
        case BPF_MISC | BPF_TAX:
            s.x = s.a, s.unknown_x = s.unknown_a;
            break;
        case BPF_MISC | BPF_TXA:
            s.a = s.x, s.unknown_a = s.unknown_x;
            break;
        case BPF_ALU | BPF_NEG:
            s.a = (uint32_t)-s.a;
            break;
        case BPF_ALU | BPF_ADD | BPF_K: case BPF_ALU | BPF_ADD | BPF_X:
        case BPF_ALU | BPF_SUB | BPF_K: case BPF_ALU | BPF_SUB | BPF_X:
        case BPF_ALU | BPF_MUL | BPF_K: case BPF_ALU | BPF_MUL | BPF_X:
        case BPF_ALU | BPF_DIV | BPF_K: case BPF_ALU | BPF_DIV | BPF_X:
        case BPF_ALU | BPF_AND | BPF_K: case BPF_ALU | BPF_AND | BPF_X:
        case BPF_ALU | BPF_OR | BPF_K: case BPF_ALU | BPF_OR | BPF_X:
        case BPF_ALU | BPF_XOR | BPF_K: case BPF_ALU | BPF_XOR | BPF_X:
        case BPF_ALU | BPF_LSH | BPF_K: case BPF_ALU | BPF_LSH | BPF_X:
        case BPF_ALU | BPF_RSH | BPF_K: case BPF_ALU | BPF_RSH | BPF_X: {
            int use_x = BPF_SRC(in.code) == BPF_X;
            uint32_t op = BPF_OP(in.code), v = use_x ? s.x : k;
            int unknown_v = use_x && s.unknown_x;
            /* The kernel's checker refuses these constants (bpf_check_classic). */
            if (!use_x && op == BPF_DIV && k == 0) return BPF_EVAL_INVALID;
            if (!use_x && (op == BPF_LSH || op == BPF_RSH) && k >= 32) return BPF_EVAL_INVALID;
            if (op == BPF_DIV && use_x && (unknown_v || v == 0)) {
                /* Division by X = 0 ends the program with 0 (SECCOMP_RET_KILL_THREAD). */
                if ((rc = add_ret(out, 0))) return rc;
                if (!unknown_v) continue; /* this path ends here */
                s.unknown_a = 1;          /* the path where X was not 0 */
                break;
            }
            if (s.unknown_a || unknown_v) {
                /* Unknown, but for the results that do not depend on it. */
                if ((op == BPF_AND || op == BPF_MUL) && !unknown_v && v == 0) s.a = 0, s.unknown_a = 0;
                else s.unknown_a = 1;
                break;
            }
            switch (op) {
            case BPF_ADD: s.a += v; break;
            case BPF_SUB: s.a -= v; break;
            case BPF_MUL: s.a *= v; break;
            case BPF_DIV: s.a /= v; break;
            case BPF_AND: s.a &= v; break;
            case BPF_OR: s.a |= v; break;
            case BPF_XOR: s.a ^= v; break;
            case BPF_LSH: s.a = s.a << (v & 31); break; /* as the kernel's 32-bit shifts */
            case BPF_RSH: s.a = s.a >> (v & 31); break;
            }
            break;
        }
        case BPF_JMP | BPF_JA:
            if (!jump_ok(pc, k, len)) return BPF_EVAL_INVALID;
            flow(states, reached, pc + 1 + k, &s);
            continue;
        case BPF_JMP | BPF_JEQ | BPF_K: case BPF_JMP | BPF_JEQ | BPF_X:
        case BPF_JMP | BPF_JGT | BPF_K: case BPF_JMP | BPF_JGT | BPF_X:
        case BPF_JMP | BPF_JGE | BPF_K: case BPF_JMP | BPF_JGE | BPF_X:
        case BPF_JMP | BPF_JSET | BPF_K: case BPF_JMP | BPF_JSET | BPF_X: {
            if (!jump_ok(pc, in.jt, len) || !jump_ok(pc, in.jf, len)) return BPF_EVAL_INVALID;
            int use_x = BPF_SRC(in.code) == BPF_X;
            uint32_t v = use_x ? s.x : k;
            uint32_t taken = pc + 1 + in.jt, not_taken = pc + 1 + in.jf;
            if (s.unknown_a || (use_x && s.unknown_x)) {
                /* JSET with 0 never jumps, whatever A is; anything else may go either way. */
                int jset_zero = BPF_OP(in.code) == BPF_JSET && !(use_x && s.unknown_x) && v == 0;
                if (!jset_zero) flow(states, reached, taken, &s);
                flow(states, reached, not_taken, &s);
                continue;
            }
            int jump = 0;
            switch (BPF_OP(in.code)) {
            case BPF_JEQ: jump = s.a == v; break;
            case BPF_JGT: jump = s.a > v; break;
            case BPF_JGE: jump = s.a >= v; break;
            case BPF_JSET: jump = (s.a & v) != 0; break;
            }
            flow(states, reached, jump ? taken : not_taken, &s);
            continue;
        }
        case BPF_RET | BPF_K:
            if ((rc = add_ret(out, k))) return rc;
            continue;
        case BPF_RET | BPF_A:
            if (s.unknown_a) return BPF_EVAL_UNKNOWN_RET;
            if ((rc = add_ret(out, s.a))) return rc;
            continue;
        default:
            return BPF_EVAL_INVALID; /* not an instruction seccomp runs */
        }
        /* Straight on; the kernel requires a RET last, so running off the end is invalid. */
        if (pc + 1 >= len) return BPF_EVAL_INVALID;
        flow(states, reached, pc + 1, &s);
    }
    return 0;
}

int bpf_evaluate(const struct sock_filter *prog, size_t len, const struct bpf_call *call, struct bpf_rets *out) {
    out->count = 0;
    if (!prog || len == 0 || len > BPF_MAXINSNS) return BPF_EVAL_INVALID;
    struct bpf_state *states = malloc(len * sizeof *states);
    uint8_t *reached = malloc(len);
    int rc = states && reached ? run(prog, (uint32_t)len, call, states, reached, out) : BPF_EVAL_NO_MEMORY;
    free(states);
    free(reached);
    return rc;
}

/* The test entry point declared in cleave_inject.h. */
#include <linux/audit.h>
#include "cleave_inject.h"

int cleave_seccomp_evaluate(const struct sock_filter *insns, size_t count, int nr, const unsigned long long args[6], unsigned known_args,
                            unsigned int rets[8]) {
    struct bpf_call call;
#if defined(__x86_64__)
    bpf_call_init(&call, nr, AUDIT_ARCH_X86_64);
#else
    bpf_call_init(&call, nr, AUDIT_ARCH_AARCH64);
#endif
    for (int i = 0; i < 6; i++)
        if (args && (known_args >> i) & 1) bpf_call_arg(&call, i, args[i]);
    struct bpf_rets out;
    int rc = bpf_evaluate(insns, count, &call, &out);
    if (rc < 0) return rc;
    for (int i = 0; i < out.count; i++) rets[i] = out.ret[i];
    return out.count;
}
