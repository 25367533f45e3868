#!/usr/bin/env python3
"""Runs a command under a seccomp filter that makes one system call fail with
the given errno (everything else works): seccomp (317) with EPERM (1) keeps a
teardown helper from installing its filter; pidfd_open (434) with ENOSYS (38)
plays a kernel before 5.3; clone (56) with EPERM (1) and --flags 0x100 (only
when the first argument has CLONE_VM) keeps the helper from being created.
x86_64 numbers.
Usage: deny_syscall.py NR ERRNO [--flags MASK] COMMAND [ARGS...]"""
import ctypes
import os
import struct
import sys

PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
LD_W_ABS, JEQ_K, JSET_K, RET_K = 0x20, 0x15, 0x45, 0x06
ALLOW, RET_ERRNO = 0x7FFF0000, 0x00050000

nr, err = int(sys.argv[1]), int(sys.argv[2])
command = sys.argv[3:]
if command[:1] == ["--flags"]:
    mask, command = int(command[1], 0), command[2:]
    program = [
        (LD_W_ABS, 0, 0, 0),       # seccomp_data.nr
        (JEQ_K, 0, 3, nr),         # the call? else allow
        (LD_W_ABS, 0, 0, 16),      # args[0], low 32 bits
        (JSET_K, 0, 1, mask),      # any flag of the mask? else allow
        (RET_K, 0, 0, RET_ERRNO | err),
        (RET_K, 0, 0, ALLOW),
    ]
else:
    program = [
        (LD_W_ABS, 0, 0, 0),       # seccomp_data.nr
        (JEQ_K, 0, 1, nr),         # the denied call? else allow
        (RET_K, 0, 0, RET_ERRNO | err),
        (RET_K, 0, 0, ALLOW),
    ]
raw = b"".join(struct.pack("HBBI", *insn) for insn in program)
buf = ctypes.create_string_buffer(raw, len(raw))


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


libc = ctypes.CDLL(None, use_errno=True)
prog = SockFprog(len(program), ctypes.cast(buf, ctypes.c_void_p))
if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
    sys.exit("prctl(NO_NEW_PRIVS): " + os.strerror(ctypes.get_errno()))
if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
    sys.exit("prctl(SECCOMP): " + os.strerror(ctypes.get_errno()))
os.execvp(command[0], command)
