#!/usr/bin/env bash
# Builds cleave and libcleave-teardown.so into the same bin directory.
# Usage: hack/build.sh [debug|release]   (prints the bin directory last)
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-debug}

# Tests are built for debug only: release modules are not compiled for @testable.
# Release links the Swift runtime statically (--static-swift-stdlib): loading
# and relocating a dozen shared Swift libraries (Foundation and ICU among them)
# took about 5 ms of every `cleave run` (the spawn benchmark). Not a fully
# static executable (-static-executable would save another ~1 ms): LD_PRELOAD
# cannot reach a static program, so `cleave probe`, the workload of `cleave
# verify` and of the benchmark, would get no teardown helper. Debug (and so
# the tests) stays dynamic.
# --disable-local-rpath: no RUNPATH $ORIGIN (nothing of cleave's is a shared library), so the
# dynamic loader does not look for libc, libm and the rest in some twenty hwcaps
# directories beside the binary at every start.
# --no-export-dynamic: the Swift driver exports every symbol of the package's own code (some
# 6,000) for the dynamic loader, so every libc symbol the loader binds and the runtime's dladdr()
# at start-up searched them; nothing looks cleave's symbols up by name (0.13 ms of each start).
static=()
[ "$config" = debug ] || static=(--static-swift-stdlib --disable-local-rpath -Xlinker --no-export-dynamic)
# Three more libraries linked in, each loaded, relocated and initialised at every start:
# - libstdc++ (the Swift runtime's C++ library; nothing else in the process uses it): 0.3 ms.
# - libgcc_s (-static-libgcc: the unwinder libstdc++ needs): its constructor asks the CPU for
#   its features with cpuid, which traps to the hypervisor (9 us a call on these machines).
# - libcap (the child's capability set before exec).
# libgcc_s and libcap together were 0.2 ms of a `cleave run` (interleaved, 300 runs). The driver
# asks for -lstdc++ and -lcap by name, so a directory searched first holds a lib<name>.so that
# is a linker script naming the archive (GCC's runtime exception allows the static link of its
# libraries; libcap is BSD-3-Clause or GPL-2). As with the Swift runtime, a fix to one of them
# then reaches cleave with a rebuild, not with the system's update.
if [ "$config" != debug ]; then
  mkdir -p .build/static-libs
  for lib in stdc++ cap; do
    archive=$(cc -print-file-name=lib$lib.a)
    if [ -f "$archive" ]; then
      echo "INPUT($archive)" > ".build/static-libs/lib$lib.so"
    else
      rm -f ".build/static-libs/lib$lib.so"
      echo "build.sh: lib$lib.a not found (hack/setup.sh installs it): linking lib$lib dynamically" >&2
    fi
  done
  static+=(-Xswiftc -L -Xswiftc "$PWD/.build/static-libs" -Xswiftc -Xclang-linker -Xswiftc -static-libgcc)
fi
if [ "$config" = debug ]; then swift build -c debug --build-tests >&2; else swift build -c "$config" "${static[@]}" >&2; fi
bin=$(swift build -c "$config" "${static[@]}" --show-bin-path)

# The injected library: cc, libc only (see hack/compile-teardown-library.sh). A plain
# `swift build` carries the same library embedded in cleave instead.
hack/compile-teardown-library.sh "$bin/libcleave-teardown.so"
echo "$bin"
