#!/usr/bin/env python3
"""Runs a command under an allowlist built by libseccomp as container runtimes build theirs:
default action ERRNO(EPERM), every x86_64 system call up to 449 allowed except mount, umount2,
reboot, kexec_load and a few more, and clone only without namespace flags (masked-equal on its
first argument, as Docker's default profile). libseccomp compiles it to a ~900-instruction
cBPF program: `cleave attach` must evaluate it and find every call it makes allowed.
Usage: seccomp_allowlist.py COMMAND [ARGS...]"""
import ctypes
import ctypes.util
import os
import sys


class ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


lib = ctypes.CDLL(ctypes.util.find_library("seccomp") or "libseccomp.so.2", use_errno=True)
lib.seccomp_init.restype = ctypes.c_void_p
lib.seccomp_init.argtypes = [ctypes.c_uint32]
lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(ArgCmp)]
lib.seccomp_load.argtypes = [ctypes.c_void_p]

ALLOW, ERRNO_EPERM = 0x7FFF0000, 0x00050001
SCMP_CMP_MASKED_EQ = 7
CLONE_NAMESPACES = 0x7E020000  # NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET
DENIED = {56, 165, 166, 169, 246, 304, 310, 311, 312, 313, 321, 425, 426, 427}

ctx = lib.seccomp_init(ERRNO_EPERM)
for nr in range(450):
    if nr not in DENIED and lib.seccomp_rule_add_array(ctx, ALLOW, nr, 0, None) != 0:
        sys.exit("seccomp_rule_add %d" % nr)
clone_rule = (ArgCmp * 1)(ArgCmp(0, SCMP_CMP_MASKED_EQ, CLONE_NAMESPACES, 0))
if lib.seccomp_rule_add_array(ctx, ALLOW, 56, 1, clone_rule) != 0:
    sys.exit("seccomp_rule_add clone")
if lib.seccomp_load(ctx) != 0:
    sys.exit("seccomp_load failed")
os.execvp(sys.argv[1], sys.argv[1:])
