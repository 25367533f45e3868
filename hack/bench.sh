#!/usr/bin/env bash
# Benchmarks cleave against what users would use instead, in one run:
# exit latency, memory release time and teardown start delay (cleave sync and
# async, QEMU with and without -async-teardown), spawn cost (posix_spawn,
# cgexec, systemd-run, crun; on this host and inside the VM tier, where crun
# runs), the helper's set-up cost, and a table of real programs (the JVM with
# 4 KiB pages and THP, Redis, Node, Python: 2 GiB each, 256 MiB with --quick)
# with cleave run async and sync and with the preload alone; static programs
# (helper injected at exec) and cleave attach's pause; the parallel release beside the
# same release without cleave (hack/bench/parallel-free.c: what the kernel allows here).
# Usage: hack/bench.sh [--quick] [--real-only] [--reps N] [--out DIR] [--baseline CLEAVE]   (default out: results/)
#   --baseline: another cleave build measured beside this one in the spawn rounds
#   --real-only: only the real-program table (results-real.md, results-real.json)
#   --workers-only: only the parallel release (--teardown-workers) rows and plot (results-workers.*, release-workers.png)
#   --inject-only: only the injection rows: a static program under cleave run async/sync, cleave attach's pause (results-inject.*)
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
out=results
real_only=
workers_only=
inject_only=
while (($#)); do
  case "$1" in
    --quick) args+=(--quick) ;;
    --real-only) real_only=1 ;;
    --workers-only) workers_only=1 ;;
    --inject-only) inject_only=1 ;;
    --reps) args+=(--reps "$2"); shift ;;
    --out) out=$2; shift ;;
    --baseline) args+=(--baseline "$(realpath "$2")"); shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
hack/setup.sh
bin=$(hack/build.sh release | tail -n 1)
# The parallel release without cleave, measured in the same rounds: the kernel's floor here.
cc -O2 -Wall -pthread hack/bench/parallel-free.c -o "$bin/cleave-bench-parallel-free"
if [ -n "$workers_only" ]; then
  exec /usr/bin/python3 hack/bench/bench.py --workers-only --cleave "$bin/cleave" --parallel-free "$bin/cleave-bench-parallel-free" --out "$out" "${args[@]}"
fi
if [ -n "$inject_only" ]; then
  exec /usr/bin/python3 hack/bench/bench.py --inject-only --cleave "$bin/cleave" --out "$out" "${args[@]}"
fi
if [ -n "$real_only" ]; then
  exec /usr/bin/python3 hack/bench/bench.py --real-only --cleave "$bin/cleave" --out "$out" "${args[@]}"
fi
cc -O2 -Wall -I Sources/CCleaveTeardown/include -I Sources/CCleaveContract/include hack/bench/helper_init.c Sources/CCleaveTeardown/*.c -o "$bin/cleave-bench-helper-init"
# Spawn cost where crun runs: this host's hybrid cgroups make crun refuse, so
# that part is also measured inside the VM tier (pure cgroup v2), all variants
# interleaved in the same guest; its JSON line is merged into the results.
vm_out=$(mktemp /var/tmp/cleave-bench-vm.XXXXXX)
trap 'rm -f "$vm_out"' EXIT
echo "bench: spawn cost inside the VM tier" >&2
hack/vm.sh --memory 2G --timeout 900 -- /usr/bin/python3 hack/bench/bench.py --spawn-only --cleave "$bin/cleave" "${args[@]}" >"$vm_out" ||
  echo "bench: the VM spawn run failed (exit $?); the results say so" >&2
# Debian's python3 has python3-matplotlib (hack/setup.sh installs it).
/usr/bin/python3 hack/bench/bench.py --cleave "$bin/cleave" --helper-init "$bin/cleave-bench-helper-init" --parallel-free "$bin/cleave-bench-parallel-free" --out "$out" --vm-spawn "$vm_out" "${args[@]}"
