#!/usr/bin/env python3
"""Runs a command under a seccomp filter that makes seccomp(2) fail with EPERM
(everything else works): a teardown helper cannot install its own filter.
Usage: deny_seccomp.py COMMAND [ARGS...]"""
import ctypes
import os
import struct
import sys

PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
NR_SECCOMP = 317  # x86_64
LD_W_ABS, JEQ_K, RET_K = 0x20, 0x15, 0x06
ALLOW, ERRNO_EPERM = 0x7FFF0000, 0x00050000 | 1

program = [
    (LD_W_ABS, 0, 0, 0),           # seccomp_data.nr
    (JEQ_K, 0, 1, NR_SECCOMP),     # seccomp? else allow
    (RET_K, 0, 0, ERRNO_EPERM),
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
os.execvp(sys.argv[1], sys.argv[1:])
