#!/usr/bin/env bash
# Compiles the teardown helper's body (Sources/CCleaveTeardown/helper_main.c, helper_confine.c
# and release_workers.c, the same sources as libcleave-teardown.so) into one position-independent
# block of bytes that `cleave attach` copies into another process and runs there. Freestanding,
# linked at address 0 with no library: an undefined symbol (a memcpy the compiler invented),
# a relocation the block cannot carry (an absolute address) or writable data fails the build.
# Writes OUTPUT.bin and OUTPUT.entry (the offset of cleave_helper_main in the block).
# Usage: hack/compile-inject-blob.sh OUTPUT [SOURCE_ROOT]
set -euo pipefail
out=$1
root=${2:-$(cd "$(dirname "$0")/.." && pwd)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(-std=gnu11 -O2 -fPIC -ffreestanding -fno-builtin -fno-stack-protector -fno-asynchronous-unwind-tables
       -fno-unwind-tables -fcf-protection=none -fvisibility=hidden -fno-common -Wall -Wextra -Werror
       -I "$root/Sources/CCleaveTeardown/include" -I "$root/Sources/CCleaveContract/include")
for src in helper_main helper_confine release_workers; do
  cc "${flags[@]}" -c "$root/Sources/CCleaveTeardown/$src.c" -o "$work/$src.o"
done
# Only PC-relative references: the block runs wherever it lands.
bad=$(readelf -rW "$work"/*.o | awk '/R_X86_64_|R_AARCH64_/ {print $3}' |
      grep -vE '^(R_X86_64_PC32|R_X86_64_PLT32|R_X86_64_GOTPCRELX|R_X86_64_REX_GOTPCRELX|R_AARCH64_(ADR_PREL_PG_HI21|ADD_ABS_LO12_NC|CALL26|JUMP26|LDST[0-9]+_ABS_LO12_NC|CONDBR19|PREL32))$' || true)
if [ -n "$bad" ]; then echo "compile-inject-blob: relocations a copied block cannot carry: $bad" >&2; exit 1; fi
cat > "$work/blob.ld" <<'LD'
ENTRY(cleave_helper_main)
SECTIONS {
  . = 0;
  .blob : { *(.text .text.*) *(.rodata .rodata.*) }
  .writable : { *(.data .data.* .bss .bss.* COMMON .got .got.*) }
  /DISCARD/ : { *(.comment) *(.note*) *(.eh_frame*) }
}
LD
ld -static -nostdlib --no-undefined -T "$work/blob.ld" -o "$work/blob.elf" "$work"/*.o
writable=$(readelf -SW "$work/blob.elf" | awk '$2 == ".writable" {print $6}')
if [ -n "$writable" ] && [ "$((16#$writable))" -ne 0 ]; then echo "compile-inject-blob: the helper has writable data ($writable bytes)" >&2; exit 1; fi
entry=$(nm "$work/blob.elf" | awk '$3 == "cleave_helper_main" {print $1}')
[ -n "$entry" ] || { echo "compile-inject-blob: no cleave_helper_main" >&2; exit 1; }
objcopy -O binary --only-section=.blob "$work/blob.elf" "$out.bin.tmp.$$"
mv -f "$out.bin.tmp.$$" "$out.bin"
echo "$((16#$entry))" > "$out.entry"
