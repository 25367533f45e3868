#ifndef CLEAVE_HELPER_FN_H
#define CLEAVE_HELPER_FN_H

/* Every function the helper runs carries HELPER_FN. It runs in a CLONE_VM
 * child that shares the workload's memory and TLS: raw system calls only,
 * nothing from libc, no errno, no stack protector (which reads the parent's
 * TLS canary), no sanitizers. Keep struct copies and byte loops out of these
 * functions too (the compiler may turn them into memcpy/memset calls). */

/* no_sanitize("thread") still leaves TSan's function entry/exit hooks, which update the
 * calling thread's TSan state through TLS: in a CLONE_VM child that is the parent's TLS, and
 * the parent's state broke (TSan "CHECK failed: thr->slot" in the test process, hack/sanitize.sh
 * thread). disable_sanitizer_instrumentation (clang 14+) removes every hook. */
#if defined(__has_attribute)
#if __has_attribute(disable_sanitizer_instrumentation)
#define HELPER_NO_INSTRUMENTATION , disable_sanitizer_instrumentation
#endif
#endif
#ifndef HELPER_NO_INSTRUMENTATION
#define HELPER_NO_INSTRUMENTATION
#endif
#define HELPER_FN __attribute__((no_stack_protector, no_sanitize("address", "thread", "undefined") HELPER_NO_INSTRUMENTATION))

#endif
