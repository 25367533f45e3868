#!/usr/bin/env bash
# Benchmarks cleave against what users would use instead, in one run:
# exit latency, memory release time and teardown start delay (cleave sync and
# async, QEMU with and without -async-teardown), spawn cost (posix_spawn,
# cgexec, systemd-run, crun), and the helper's set-up cost.
# Usage: hack/bench.sh [--quick] [--reps N] [--out DIR]     (default out: results/)
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
out=results
while (($#)); do
  case "$1" in
    --quick) args+=(--quick) ;;
    --reps) args+=(--reps "$2"); shift ;;
    --out) out=$2; shift ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
hack/setup.sh
bin=$(hack/build.sh release | tail -n 1)
cc -O2 -Wall -I Sources/CCleaveTeardown/include hack/bench/helper_init.c Sources/CCleaveTeardown/*.c -o "$bin/cleave-bench-helper-init"
# Debian's python3 has python3-matplotlib (hack/setup.sh installs it).
exec /usr/bin/python3 hack/bench/bench.py --cleave "$bin/cleave" --helper-init "$bin/cleave-bench-helper-init" --out "$out" "${args[@]}"
