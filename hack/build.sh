#!/usr/bin/env bash
# Builds cleave and libcleave-teardown.so into the same bin directory.
# Usage: hack/build.sh [debug|release]   (prints the bin directory last)
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-debug}

# Tests are built for debug only: release modules are not compiled for @testable.
# Release is a fully static executable (Swift runtime, libc, libcap): loading
# and relocating a dozen shared Swift libraries took about 5 ms of every
# `cleave run`, and the remaining shared libraries (libstdc++, libm, libgcc_s)
# about 1 ms of CPU (symbol binding) and 200 page faults more (the spawn
# benchmark). Debug (and so the tests) stays dynamic. glibc warns that static
# programs still load its NSS libraries for getpwnam and the like: cleave runs
# on the machine it was built for, where they are.
static=()
[ "$config" = debug ] || static=(--static-swift-stdlib -Xswiftc -static-executable)
if [ "$config" = debug ]; then swift build -c debug --build-tests >&2; else swift build -c "$config" "${static[@]}" 2>&1 | { grep -v "statically linked applications requires at runtime\|is dangerous, better use" || true; } >&2; fi
bin=$(swift build -c "$config" "${static[@]}" --show-bin-path)

# The injected library is compiled with cc, not SwiftPM: SwiftPM links every
# library against libswiftCore, and a library preloaded into any program (or
# bind-mounted into a container) must depend on libc alone.
cc -std=gnu11 -O2 -g -fPIC -shared -Wall -Wextra -Werror \
   -fvisibility=hidden -Wl,--no-undefined \
   -I Sources/CCleaveTeardown/include \
   Sources/CCleaveTeardown/*.c Sources/CCleavePreload/*.c \
   -o "$bin/libcleave-teardown.so.tmp"
mv -f "$bin/libcleave-teardown.so.tmp" "$bin/libcleave-teardown.so"
echo "$bin"
