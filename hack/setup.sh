#!/usr/bin/env bash
# Installs the Debian packages cleave needs to build and test. Idempotent and
# quick when everything is present: apt runs only for what is missing.
set -euo pipefail

packages=(
  libcap-dev          # capabilities for OCI process.capabilities
  qemu-system-x86     # the VM test tier (pure cgroup v2 kernel)
  linux-image-amd64   # Debian's kernel for that VM
  busybox-static      # the VM's initramfs
  cpio kmod           # building the initramfs
  xz-utils            # unpacking the kernel image for the VM (vm.sh)
  crun                # OCI hook tests in the VM tier, spawn benchmark
  cgroup-tools        # cgexec, for the spawn benchmark
  python3-matplotlib  # hack/bench.sh plots (Debian's /usr/bin/python3)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  [ "$(id -u)" = 0 ] || { echo "setup: need root to install: ${missing[*]}" >&2; exit 1; }
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
