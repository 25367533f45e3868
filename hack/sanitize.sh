#!/usr/bin/env bash
# Builds cleave and its tests with a sanitizer and runs the host-tier tests under it.
#   address: AddressSanitizer (+ leak checks off: Swift's runtime keeps metadata for ever)
#   thread:  ThreadSanitizer
# Scratch paths .build-asan / .build-tsan keep these builds apart from the normal one.
# The C teardown helper runs on a CLONE_VM stack with raw syscalls. Under ASan it needs no
# exclusion: the shadow memory is shared with the parent (CLONE_VM) and the helper's code
# touches only its own stack (AsyncTeardownTests runs it in the instrumented test process).
# libcleave-teardown.so (cc, injected into workloads) is built without sanitizers, as always.
# Usage: hack/sanitize.sh [address|thread] [--filter REGEX]
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-address}
shift || true
filter=()
while (($#)); do
  case "$1" in
    --filter) filter=(--filter "$2"); shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "sanitize.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
case "$kind" in
  address) scratch=.build-asan ;;
  thread) scratch=.build-tsan ;;
  *) echo "sanitize.sh: '$kind' is not address or thread" >&2; exit 2 ;;
esac
hack/setup.sh
swift build --build-tests --sanitize="$kind" --scratch-path "$scratch" >&2
bin=$(swift build --sanitize="$kind" --scratch-path "$scratch" --show-bin-path)
# The injected library stays uninstrumented (it must need libc alone), as in hack/build.sh.
hack/compile-teardown-library.sh "$bin/libcleave-teardown.so"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
# Host tier only: the VM tier boots a kernel in QEMU, too slow under a sanitizer.
status=0
swift test --skip-build --sanitize="$kind" --scratch-path "$scratch" --skip VMTier "${filter[@]}" || status=1
exit $status
