#!/usr/bin/env bash
# Injection figures: the pause of `cleave attach` (how long the stopped thread is held, and
# how long it took to stop) and SIGKILL-to-reap of a static program holding MIB MiB with an
# injected helper (async) against none (sync). The program is Tests/CleaveRuntimeTests/Fixtures/
# inject_target.c built with cc -static (LD_PRELOAD cannot reach it).
# Usage: hack/bench-attach.sh [CLEAVE] [REPS] [MIB]   (defaults: .build/debug/cleave, 7, 2048)
set -euo pipefail
. "$(dirname "$0")/lib/contract.sh"
helper_prefix=$(contract_define CLEAVE_HELPER_NAME_PREFIX)
cd "$(dirname "$0")/.."
cleave=${1:-.build/debug/cleave}
reps=${2:-7}
mib=${3:-2048}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O1 -static -pthread -o "$work/target" Tests/CleaveRuntimeTests/Fixtures/inject_target.c

now_us() { echo $(( $(date +%s%N) / 1000 )); }
# median and range of the numbers on stdin
summary() { sort -n | awk '{a[NR]=$1} END {printf "median %d, range %d-%d (n=%d)", a[int((NR+1)/2)], a[1], a[NR], NR}'; }

run() { # $1: async|sync; prints "pause stop reap" in µs
  mkfifo "$work/ready"
  "$work/target" busy "$mib" 600 > "$work/ready" &
  local pid=$!
  read -r _ < "$work/ready"
  local pause=- stop=-
  if [ "$1" = async ]; then
    local json
    json=$("$cleave" attach "$pid" --json)
    pause=$(sed -E 's/.*"pauseMicroseconds":([0-9]+).*/\1/' <<< "$json")
    stop=$(sed -E 's/.*"stopMicroseconds":([0-9]+).*/\1/' <<< "$json")
  fi
  local t0; t0=$(now_us)
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  local t1; t1=$(now_us)
  rm -f "$work/ready"
  echo "$pause $stop $((t1 - t0))"
  # let the helper finish freeing before the next round
  local deadline=$((SECONDS + 60))
  while pgrep -x "$helper_prefix$pid" >/dev/null 2>&1 && ((SECONDS < deadline)); do sleep 0.1; done
  sleep 1
}

for ((i = 0; i < reps; i++)); do
  run async >> "$work/async"
  run sync >> "$work/sync"
done
echo "static program, $mib MiB, $reps runs each (µs):"
echo "  attach pause (thread held):     $(awk '{print $1}' "$work/async" | summary)"
echo "  attach stop latency:            $(awk '{print $2}' "$work/async" | summary)"
echo "  SIGKILL-to-reap, async (attach): $(awk '{print $3}' "$work/async" | summary)"
echo "  SIGKILL-to-reap, sync:           $(awk '{print $3}' "$work/sync" | summary)"
