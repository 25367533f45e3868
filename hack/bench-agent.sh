#!/usr/bin/env bash
# Measures `cleave agent` at scale and prints the figures:
#   - time to ready with N watched cgroups
#   - /metrics scrape latency with N watched cgroups (median and max of 30)
#   - resident memory (VmRSS, VmHWM) after the scrapes
#   - idle CPU over 10 s (no cgroup changes, no scrapes)
#   - a churn of cgroups created and removed, and the CPU it cost
# Usage: hack/bench-agent.sh [--cgroups 1000] [--debug] [--vm]
#   --debug  measure the debug build (default: release, built if missing)
#   --vm     run inside the QEMU guest (pure cgroup v2, memory controller on)
set -euo pipefail
cd "$(dirname "$0")/.."

count=1000
config=release
in_vm=0
while (($#)); do
  case "$1" in
    --cgroups) count=${2:?}; shift ;;
    --debug) config=debug ;;
    --vm) in_vm=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "bench-agent.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done

if [ "$config" = release ]; then
  swift build -c release --product cleave >&2
else
  swift build -c debug --product cleave >&2
fi
bin=$(swift build -c "$config" --show-bin-path)
if ((in_vm)); then
  args=(--cgroups "$count"); [ "$config" = debug ] && args+=(--debug)
  exec hack/vm.sh --memory 2G --timeout 900 -- env CLEAVE_BENCH_BIN="$bin" hack/bench-agent.sh "${args[@]}" --in-vm-child
fi
