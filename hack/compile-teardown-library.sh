#!/usr/bin/env bash
# Compiles libcleave-teardown.so (the LD_PRELOAD library) into OUTPUT, with cc, not SwiftPM:
# SwiftPM links every library against libswiftCore, and a library preloaded into any program
# (or bind-mounted into a container) must depend on libc alone. Used by hack/build.sh (next to
# the binaries) and by the EmbedTeardownLibrary plugin (embedded in cleave for `swift build`).
# The sources are CCleaveTeardown's, which cleave itself also links (the exit keeper is
# cleave's, not the library's): --gc-sections leaves out whatever the two exported entry
# points and the constructor do not reach.
# Usage: hack/compile-teardown-library.sh OUTPUT [SOURCE_ROOT]
set -euo pipefail
out=$1
root=${2:-$(cd "$(dirname "$0")/.." && pwd)}
cc -std=gnu11 -O2 -g -fPIC -shared -Wall -Wextra -Werror \
   -fvisibility=hidden -ffunction-sections -fdata-sections -Wl,--gc-sections -Wl,--no-undefined \
   -I "$root/Sources/CCleaveTeardown/include" -I "$root/Sources/CCleaveContract/include" \
   "$root"/Sources/CCleaveTeardown/*.c "$root"/Sources/CCleavePreload/*.c \
   -o "$out.tmp.$$"
mv -f "$out.tmp.$$" "$out"
