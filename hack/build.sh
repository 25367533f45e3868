#!/usr/bin/env bash
# Builds cleave and libcleave-teardown.so into the same bin directory.
# Usage: hack/build.sh [debug|release]   (prints the bin directory last)
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-debug}

# Tests are built for debug only: release modules are not compiled for @testable.
# Release binaries are static PIEs: the Swift runtime, libstdc++, libgcc, libcap and glibc
# are linked in, and the executable keeps its ASLR (position-independent, relocated by
# glibc's own start-up code). Each shared library cost its loading, relocation and symbol
# binding at every start, and some their constructors (libgcc_s asks the CPU for its features
# with cpuid, a trap to the hypervisor on virtual machines): the Swift runtime's dozen
# libraries about 5 ms of every `cleave run`, libstdc++ 0.3 ms, libgcc_s and libcap 0.2 ms,
# glibc itself (ld.so, libc, libm) 0.25 ms, interleaved, 300 runs. A fix to one of them then
# reaches cleave with a rebuild, not with the system's update (as with any static binary:
# runc's and crun's releases are static too).
# - lld (shipped with the Swift toolchain) links a static PIE; gold does not.
# - -z pack-relative-relocs: the 43,000 relative relocations of a static PIE (Swift metadata,
#   witness tables) as an 8 KiB RELR table instead of 1 MiB of RELA entries read at start.
# - --disable-local-rpath, --no-export-dynamic: no RUNPATH, no dynamic symbol table of the
#   package's own 6,000 symbols.
# - -function-sections and hack/cleave.order: the ~1,800 functions a `cleave run` executes
#   are placed together at the start of .text (lld --symbol-ordering-file) instead of over
#   6 MiB of it: 46 windows of fault-around instead of 115, 286 page faults a sync run instead
#   of 341, 0.12-0.19 ms of its start. hack/order-file.sh regenerates the list.
# LD_PRELOAD cannot reach a static program: `cleave probe` starts the teardown helper it links
# itself, and `cleave run` gives it no injected one when the probe is cleave's own binary
# (ExecutableKind.linkedHelper). libcleave-teardown.so stays a shared library (libc only).
static=()
[ "$config" = debug ] || static=(--static-swift-stdlib --disable-local-rpath -Xlinker --no-export-dynamic
  -Xlinker -z -Xlinker pack-relative-relocs -Xswiftc -use-ld=lld -Xswiftc -Xclang-linker -Xswiftc -static-pie
  -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections
  -Xlinker --symbol-ordering-file="$PWD/hack/cleave.order" -Xlinker --no-warn-symbol-ordering)
if [ "$config" = debug ]; then swift build -c debug --build-tests >&2; else swift build -c "$config" "${static[@]}" >&2; fi
bin=$(swift build -c "$config" "${static[@]}" --show-bin-path)

# The injected library: cc, libc only (see hack/compile-teardown-library.sh). A plain
# `swift build` carries the same library embedded in cleave instead.
hack/compile-teardown-library.sh "$bin/libcleave-teardown.so"

# The order only helps while its names are the binary's: renamed or removed functions fall
# back to wherever the linker puts them. Say so when a fifth of the list is gone.
if [ "$config" != debug ]; then
  total=$(grep -vc '^#' hack/cleave.order || true)
  missing=$(grep -v "^#" hack/cleave.order | LC_ALL=C sort -u |
    LC_ALL=C comm -23 - <(nm --defined-only "$bin/cleave" | awk '{ print $3 }' | LC_ALL=C sort -u) | wc -l)
  if [ "$total" -eq 0 ] || [ $((missing * 5)) -gt "$total" ]; then
    echo "build: $missing of $total functions in hack/cleave.order are not in cleave: regenerate it with hack/order-file.sh" >&2
  fi
fi
echo "$bin"
