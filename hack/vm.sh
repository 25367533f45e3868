#!/usr/bin/env bash
# Runs a command as root inside a QEMU guest that boots Debian's own kernel
# with a pure cgroup v2 hierarchy (memory, cpu, pids, ...), the host root
# shared read-only under a writable tmpfs overlay (so /tmp shows the host's
# /tmp but writes stay in the guest), and a fresh /run.
#
# Usage: hack/vm.sh [--memory 2G] [--cpus 2] [--timeout SECONDS] -- COMMAND [ARGS...]
#
# The command runs in the host's current directory (same path in the guest)
# with PATH, HOME and every CLEAVE_* variable of the caller. Its stdout and
# stderr stream to this script's stdout; the exit status is the command's.
# 124: timeout; 125: the guest did not come up or could not run the command
# (the console log is printed to stderr); 123: the guest kernel reported a soft
# lockup (its CPUs' backtraces are in the console log printed to stderr: the
# guest panics at once instead of hanging until the timeout); 2: usage error.
set -euo pipefail

memory=2G
cpus=2
timeout=900
usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case "$1" in
    --memory) memory=${2:?}; shift ;;
    --cpus) cpus=${2:?}; shift ;;
    --timeout) timeout=${2:?}; shift ;;
    --) shift; break ;;
    -h|--help) usage ;;
    *) echo "vm.sh: unknown option '$1'" >&2; usage ;;
  esac
  shift
done
(($#)) || { echo "vm.sh: no command given" >&2; usage; }
[[ $timeout =~ ^[0-9]+$ ]] || { echo "vm.sh: --timeout must be a number of seconds" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
cache=${CLEAVE_VM_CACHE:-/var/tmp/cleave-vm}
modules_wanted=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci 9pnet 9pnet_virtio netfs fscache 9p overlay)

# The newest kernel in /boot whose modules are installed.
find_kernel() {
  local k v
  for k in $(ls -1v /boot/vmlinuz-* 2>/dev/null | sort -rV); do
    v=${k#/boot/vmlinuz-}
    [ -d "/lib/modules/$v" ] && { echo "$v"; return; }
  done
  echo "vm.sh: no kernel with modules in /boot (run hack/setup.sh: linux-image-amd64)" >&2
  exit 125
}

# A busybox initramfs with the 9p/overlay modules and both init stages,
# cached by kernel version and the hash of the init scripts.
build_initramfs() {
  local ver=$1 key out dir m path
  key=$(cat "$here/vm/init-stage1.sh" "$here/vm/init-stage2.sh" "$0" | sha256sum | cut -c1-12)
  out="$cache/initramfs-$ver-$key.cpio.gz"
  [ -s "$out" ] && { echo "$out"; return; }
  mkdir -p "$cache"
  dir=$(mktemp -d)
  mkdir -p "$dir"/{bin,proc,sys,dev,modules}
  cp /bin/busybox "$dir/bin/busybox"
  : > "$dir/modules.order"
  for m in "${modules_wanted[@]}"; do
    path=$(grep -E "/$m\.ko(\.[a-z]+)?:" "/lib/modules/$ver/modules.dep" | head -n1 | cut -d: -f1 || true)
    [ -n "$path" ] || continue   # built in, or absent from this kernel
    case "$path" in
      *.xz) xz -dc "/lib/modules/$ver/$path" > "$dir/modules/$m.ko" ;;
      *.zst) zstd -qdc "/lib/modules/$ver/$path" > "$dir/modules/$m.ko" ;;
      *) cp "/lib/modules/$ver/$path" "$dir/modules/$m.ko" ;;
    esac
    echo "$m" >> "$dir/modules.order"
  done
  cp "$here/vm/init-stage1.sh" "$dir/init"
  cp "$here/vm/init-stage2.sh" "$dir/stage2.sh"
  chmod +x "$dir/init"
  (cd "$dir" && find . | cpio -o -H newc --quiet | gzip -1) > "$out.tmp"
  mv "$out.tmp" "$out"
  rm -rf "$dir"
  echo "$out"
}

# Under TCG the guest spends seconds decompressing the bzImage. QEMU boots an
# uncompressed ELF vmlinux directly through its PVH entry point (CONFIG_PVH),
# so extract it once and cache it (by the bzImage's hash); on any doubt boot
# the bzImage.
kernel_image() {
  local ver=$1 bz=/boot/vmlinuz-$1 key out tmp
  grep -qx 'CONFIG_PVH=y' "/boot/config-$ver" 2>/dev/null || { echo "$bz"; return; }
  key=$(sha256sum <"$bz" | cut -c1-16)
  out=$cache/vmlinux-$ver-$key
  if [ ! -s "$out" ]; then
    mkdir -p "$cache"
    tmp=$(mktemp "$cache/.vmlinux.XXXXXX")
    if extract_vmlinux "$bz" >"$tmp" && is_elf "$tmp"; then
      mv -f "$tmp" "$out"
    else
      rm -f "$tmp"
      echo "vm.sh: cannot extract vmlinux from $bz: booting the bzImage" >&2
      echo "$bz"; return
    fi
  fi
  echo "$out"
}

# Writes the decompressed payload of a bzImage (boot protocol >= 2.08) to stdout.
extract_vmlinux() {
  local img=$1 setup_sects payload_offset payload_length start magic
  setup_sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$img" | tr -d ' ')
  ((setup_sects)) || setup_sects=4
  read -r payload_offset payload_length < <(od -An -tu4 -j $((0x248)) -N8 "$img")
  start=$(((setup_sects + 1) * 512 + payload_offset))
  magic=$(od -An -tx1 -j "$start" -N6 "$img" | tr -d ' \n')
  # The payload ends with 4 bytes of uncompressed size: decompressors must
  # stop at the end of the first stream (is_elf checks the result).
  payload() { dd if="$img" iflag=skip_bytes,count_bytes skip="$start" count="$payload_length" status=none; }
  case $magic in
    fd377a585a00) payload | xz -dc --single-stream ;;
    28b52ffd*) payload | zstd -dcq 2>/dev/null || true ;;
    1f8b*) payload | gzip -dc 2>/dev/null || true ;;
    *) return 1 ;;
  esac
}

is_elf() {
  [ "$(od -An -tx1 -N4 "$1" | tr -d ' \n')" = 7f454c46 ] && [ "$(stat -c %s "$1")" -gt 1000000 ]
}

ver=$(find_kernel)
initrd=$(build_initramfs "$ver")
kernel=$(kernel_image "$ver")

job=$(mktemp -d /var/tmp/cleave-vm-job.XXXXXX)
log=$job/console.log
qemu_pid=
cleanup() {
  [ -n "$qemu_pid" ] && kill -9 "$qemu_pid" 2>/dev/null || true
  rm -rf "$job"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

{
  echo "set -e"
  printf 'cd %q\n' "$PWD"
  while IFS='=' read -r name _; do
    [[ $name == CLEAVE_* ]] && printf 'export %s=%q\n' "$name" "${!name}"
  done < <(env)
  echo "set +e"
  printf 'exec'; printf ' %q' "$@"; echo
} > "$job/cmd"

fail() {
  echo "vm.sh: $1" >&2
  echo "vm.sh: last lines of the guest console:" >&2
  tail -n 80 "$log" | tr -d '\r' >&2 || true
  exit "${2:-125}"
}

# q35 rather than the default i440fx: its PCI interrupt links are set up in
# microseconds, i440fx's took 0.2-0.35 s per virtio device under TCG; qboot
# (when Debian's qemu ships it) instead of SeaBIOS saves another 0.1 s.
machine=(-machine q35)
[ ! -r /usr/share/qemu/qboot.rom ] || machine+=(-bios /usr/share/qemu/qboot.rom)

started=$(date +%s%N)
# The guest's console is its serial port on our stdout; stdin is /dev/null
# so QEMU never puts a terminal into raw mode.
timeout -k 5 "$timeout" qemu-system-x86_64 "${machine[@]}" \
  -accel tcg,thread=multi -cpu max -m "$memory" -smp "$cpus" \
  -display none -monitor none -serial stdio -nodefaults -no-reboot \
  -kernel "$kernel" -initrd "$initrd" \
  -append "console=ttyS0 quiet loglevel=1 panic=-1 softlockup_panic=1 softlockup_all_cpu_backtrace=1 cgroup_no_v1=all transparent_hugepage=madvise" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs "local,path=$job,mount_tag=job,security_model=none" \
  </dev/null > "$job/fifo.out" 2>"$job/qemu.err" &
qemu_pid=$!

# Stream the command's lines (between the markers) as they arrive.
status=
began=0
exec 3< <(tail -n +1 -F --pid="$qemu_pid" "$job/fifo.out" 2>/dev/null)
while IFS= read -r line <&3; do
  line=${line%$'\r'}
  if ((began)); then
    if [[ $line == "CLEAVE-VM-EXIT "* ]]; then status=${line#CLEAVE-VM-EXIT }; continue; fi
    [ -z "$status" ] && printf '%s\n' "$line"
  else
    printf '%s\n' "$line" >> "$log"
    [[ $line == "CLEAVE-VM-BEGIN"* ]] && { began=1; echo "vm.sh: guest up after $(( ($(date +%s%N) - started) / 1000000 )) ms (kernel $ver)" >&2; }
    [[ $line == "CLEAVE-VM-FAIL"* ]] && { kill -9 "$qemu_pid" 2>/dev/null; fail "guest setup failed: ${line#CLEAVE-VM-FAIL }"; }
  fi
done
wait "$qemu_pid" && qrc=0 || qrc=$?
qemu_pid=
cat "$job/fifo.out" | tr -d '\r' >> "$log.full" 2>/dev/null || true
[ "$qrc" = 124 ] || [ "$qrc" = 137 ] && [ -z "$status" ] && { cp "$log.full" "$log" 2>/dev/null; fail "timed out after $timeout s" 124; }
if [ -z "$status" ]; then
  cp "$log.full" "$log" 2>/dev/null || true
  cat "$job/qemu.err" >> "$log" 2>/dev/null || true
  # softlockup_panic: a CPU spinning in the guest kernel for 20 s panics it, and the panic
  # (panic=-1, -no-reboot) ends QEMU. Seen under TCG with the guest's Debian 6.1 kernel.
  if grep -q "soft lockup" "$log"; then
    grep -A 40 "soft lockup" "$log" | head -n 200 >&2 || true
    fail "the guest kernel locked up (soft lockup; qemu exit $qrc)" 123
  fi
  fail "the guest ended without running the command to completion (qemu exit $qrc)"
fi
echo "vm.sh: command exited $status after $(( ($(date +%s%N) - started) / 1000000 )) ms in the guest cycle" >&2
exit "$status"
