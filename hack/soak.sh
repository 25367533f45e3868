#!/usr/bin/env bash
# Soak test: many `cleave run --teardown async` cycles (probes that exit 0 on stdin EOF,
# are SIGKILLed, get a forwarded SIGTERM; shells with distinct exit codes and ones that
# kill themselves), M at once, each exit status checked; then counts what is left
# (cgroups, live cleanup/* helpers, __watch-teardown watchers, unreaped zombies, the
# driver's own fds, run records) and prints a Markdown table with the exit-latency spread.
# Two fault scenarios follow (cleave SIGKILLed mid-run + `cleave gc`; helper SIGKILLed).
# Exits 1 on any failure or leftover.
# Usage: hack/soak.sh [--short] [--cycles N] [--concurrent M] [--faults K] [--size 16M] [--bin DIR] [--json FILE]
#   --short: 50 cycles, 10 at once, 5 runs per fault (under a minute; hack/test.sh runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
bin=""
while (($#)); do
  case "$1" in
    --short) args+=(--cycles 50 --concurrent 10 --faults 5) ;;
    --cycles|--concurrent|--faults|--size|--json) args+=("$1" "$2"); shift ;;
    --bin) bin=$2; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$bin" ]; then bin=$(hack/build.sh debug | tail -n 1); fi
exec /usr/bin/python3 hack/soak/soak.py --cleave "$bin/cleave" "${args[@]}"
