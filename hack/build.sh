#!/usr/bin/env bash
# Builds cleave and libcleave-teardown.so into the same bin directory.
# Usage: hack/build.sh [debug|release]   (prints the bin directory last)
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-debug}

swift build -c "$config" --build-tests >&2
bin=$(swift build -c "$config" --show-bin-path)

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
