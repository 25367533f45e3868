#!/usr/bin/env bash
# cleave's main job, end to end: install, build, and prove the accounting with
# `cleave verify` on a real cgroup v2 kernel — this host's when its cgroup2
# hierarchy has the memory controller, otherwise a QEMU guest's (hack/vm.sh).
# Usage: hack/demo.sh [--size SIZE] [--json]
set -euo pipefail
cd "$(dirname "$0")/.."

size=512M
extra=()
while (($#)); do
  case "$1" in
    --size) size=$2; shift ;;
    --json) extra+=(--json) ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done

hack/setup.sh
bin=$(hack/build.sh debug | tail -n 1)

v2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
if [ -n "$v2" ] && grep -qw memory "$v2/cgroup.controllers" 2>/dev/null; then
  echo "demo: cgroup2 at $v2 has the memory controller: verifying on this host" >&2
  exec "$bin/cleave" verify --size "$size" --mode both "${extra[@]}"
fi
echo "demo: this host's cgroup2 hierarchy (${v2:-none}) has no memory controller (hybrid cgroups);" >&2
echo "demo: verifying inside a QEMU guest that boots Debian's kernel with a pure cgroup v2 hierarchy" >&2
exec hack/vm.sh --memory 2G -- "$bin/cleave" verify --size "$size" --mode both "${extra[@]}"
