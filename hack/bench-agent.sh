#!/usr/bin/env bash
# Measures `cleave agent` with many watched cgroups and prints the figures:
#   - time until /readyz answers 200 with N cgroups to watch
#   - /metrics scrape latency with N watched cgroups (median and max of 30)
#   - resident memory (VmRSS, and the peak VmHWM) after the scrapes
#   - idle CPU over 10 s (no cgroup changes, no scrapes)
#   - CPU spent by the agent during a churn of cgroups created and removed
# Usage: hack/bench-agent.sh [--cgroups 1000] [--debug | --static] [--vm]
#   --debug  measure the debug build (default: the release build, built here)
#   --static the release build with the Swift runtime linked statically
#            (--static-swift-stdlib, in .build-static), as for a container image
#   --vm     run inside the QEMU guest (pure cgroup v2 with the memory
#            controller, so every scrape also reads memory.* files)
set -euo pipefail
cd "$(dirname "$0")/.."

count=1000
config=release
in_vm=0
build=1
flags=()
while (($#)); do
  case "$1" in
    --cgroups) count=${2:?}; shift ;;
    --debug) config=debug ;;
    --static) flags=(--static-swift-stdlib --scratch-path .build-static) ;;
    --vm) in_vm=1 ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-agent.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
[[ $count =~ ^[0-9]+$ ]] && ((count > 0)) || { echo "bench-agent.sh: --cgroups must be a positive number" >&2; exit 2; }

if ((build)); then swift build -c "$config" "${flags[@]}" --product cleave >&2; fi
bin=$(swift build -c "$config" "${flags[@]}" --show-bin-path)
cleave=$bin/cleave
[ -x "$cleave" ] || { echo "bench-agent.sh: $cleave is missing" >&2; exit 1; }

if ((in_vm)); then
  args=(--cgroups "$count" --no-build)
  [ "$config" = debug ] && args+=(--debug)
  ((${#flags[@]})) && args+=(--static)
  exec hack/vm.sh --memory 2G --timeout 900 -- hack/bench-agent.sh "${args[@]}"
fi

mountpoint=$(awk '$9 == "cgroup2" { print $5 }' /proc/self/mountinfo | sort | head -n1)
for m in /sys/fs/cgroup /sys/fs/cgroup/unified; do
  awk -v m="$m" '$9 == "cgroup2" && $5 == m { found = 1 } END { exit !found }' /proc/self/mountinfo && { mountpoint=$m; break; }
done
[ -n "$mountpoint" ] || { echo "bench-agent.sh: no cgroup2 mount" >&2; exit 1; }
root=cleave-bench-agent-$$
dir=$mountpoint/$root
agent_pid=
log=$(mktemp)

cleanup() {
  [ -n "$agent_pid" ] && kill -TERM "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null || true
  if [ -d "$dir" ]; then find "$dir" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true; rmdir "$dir" 2>/dev/null || true; fi
  rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# N cgroups: 10 groups of N/10 (a realistic two-level tree), counting the parents.
mkdir "$dir"
# Where the controllers exist, enable them below the bench root, as a
# container runtime does, so scrapes also read memory.current/stat/events.
enable=$(for c in memory cpu; do grep -qw "$c" "$dir/cgroup.controllers" && printf '+%s ' "$c"; done || true)
groups=10
((count < 11)) && groups=$((count - 1))
made=1
[ -n "$enable" ] && echo "$enable" > "$dir/cgroup.subtree_control"
for g in $(seq 1 $groups); do
  mkdir "$dir/g$g"; made=$((made + 1))
  [ -n "$enable" ] && echo "$enable" > "$dir/g$g/cgroup.subtree_control"
done
i=0
while ((made < count)); do
  mkdir "$dir/g$(( i % groups + 1 ))/c$i"; made=$((made + 1)); i=$((i + 1))
done
watched=$(find "$dir" -type d | wc -l)

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
now_ms() { date +%s%3N; }

t0=$(now_ms)
"$cleave" agent --listen 127.0.0.1:0 --root "$root" 2>"$log" &
agent_pid=$!
port=
for _ in $(seq 600); do
  port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" | sed 's/.*://' || true)
  [ -n "$port" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "bench-agent.sh: the agent did not start:" >&2; cat "$log" >&2; exit 1; }
t_ready=$(( $(now_ms) - t0 ))

series=$(curl -s "http://127.0.0.1:$port/metrics" | grep -c "^cleave_cgroup_cpu_usage_seconds_total{" || true)
ws_series=$(curl -s "http://127.0.0.1:$port/metrics" | grep -c "^cleave_cgroup_memory_working_set_bytes{" || true)
times=()
for _ in $(seq 30); do
  times+=("$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/metrics")")
done
bytes=$(curl -s "http://127.0.0.1:$port/metrics" | wc -c)
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$agent_pid/status")
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$agent_pid/status")

sleep 1
c0=$(cpu_ticks "$agent_pid"); sleep 10; c1=$(cpu_ticks "$agent_pid")
idle_pct=$(awk -v d=$((c1 - c0)) -v hz="$hz" 'BEGIN { printf "%.2f", 100 * d / hz / 10 }')

# Churn: create and remove cgroups as fast as a shell loop can for 3 s.
c0=$(cpu_ticks "$agent_pid"); start=$(now_ms); ops=0
while (( $(now_ms) - start < 3000 )); do
  mkdir "$dir/churn-$ops" && rmdir "$dir/churn-$ops"; ops=$((ops + 2))
done
elapsed=$(( $(now_ms) - start ))
sleep 0.5
c1=$(cpu_ticks "$agent_pid")
churn_rate=$(( ops * 1000 / elapsed ))
churn_cpu=$(awk -v d=$((c1 - c0)) -v hz="$hz" -v e="$elapsed" 'BEGIN { printf "%.1f", 100 * d / hz / (e / 1000 + 0.5) }')
kill -0 "$agent_pid" || { echo "bench-agent.sh: the agent died during the churn" >&2; exit 1; }
kill -TERM "$agent_pid"; wait "$agent_pid" && status=0 || status=$?
agent_pid=

printf '%s\n' "${times[@]}" | /usr/bin/python3 -c '
import statistics, sys
t = sorted(float(x) * 1000 for x in sys.stdin.read().split())
print(f"{statistics.median(t):.2f} {t[0]:.2f} {t[-1]:.2f}")' > "$log.scrape"
read -r med min max < "$log.scrape"; rm -f "$log.scrape"

controllers=$(cat "$mountpoint/cgroup.controllers")
echo "cleave agent benchmark ($config build${flags:+, static Swift runtime}), $(uname -r), cgroup2 at $mountpoint (controllers: ${controllers:-none})"
echo "watched cgroups:          $watched ($series cpu and $ws_series working-set series)"
echo "time to ready:            $t_ready ms"
echo "scrape /metrics:          median $med ms, min $min ms, max $max ms (30 scrapes, $bytes bytes)"
echo "resident memory:          VmRSS $((rss / 1024)) MiB ($rss KiB), peak VmHWM $((hwm / 1024)) MiB"
echo "idle CPU (10 s):          $idle_pct %"
echo "churn:                    $churn_rate mkdir/rmdir a second for 3 s, agent CPU $churn_cpu % meanwhile"
echo "SIGTERM exit status:      $status"
