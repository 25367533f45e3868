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
# libstdc++ linked in as well (the Swift runtime's C++ library; nothing else in the process uses
# it): loading and relocating libstdc++.so was 0.3 ms of every start. The driver asks for
# -lstdc++ by name, so a directory searched first holds a libstdc++.so that is a linker script
# naming the archive (GCC's runtime exception allows the static link). As with the Swift
# runtime, a fix to libstdc++ then reaches cleave with a rebuild, not with the system's update.
if [ "$config" != debug ]; then
  archive=$(cc -print-file-name=libstdc++.a)
  if [ -f "$archive" ]; then
    mkdir -p .build/static-libstdcxx
    echo "INPUT($archive)" > .build/static-libstdcxx/libstdc++.so
    static+=(-Xswiftc -L -Xswiftc "$PWD/.build/static-libstdcxx")
  else
    echo "build.sh: libstdc++.a not found (libstdc++-12-dev): linking libstdc++ dynamically" >&2
  fi
fi
if [ "$config" = debug ]; then swift build -c debug --build-tests >&2; else swift build -c "$config" "${static[@]}" >&2; fi
bin=$(swift build -c "$config" "${static[@]}" --show-bin-path)

# The injected library: cc, libc only (see hack/compile-teardown-library.sh). A plain
# `swift build` carries the same library embedded in cleave instead.
hack/compile-teardown-library.sh "$bin/libcleave-teardown.so"
echo "$bin"
