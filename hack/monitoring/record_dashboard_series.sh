#!/usr/bin/env bash
# Records the scrape series behind results/dashboard.png: runs record_dashboard_series.py
# in the VM tier's guest (hack/vm.sh: pure cgroup v2, memory controller, 2 GiB) and keeps
# its JSON lines. Then: hack/monitoring/plot_dashboard.py renders the dashboard's panels.
# Usage: hack/monitoring/record_dashboard_series.sh [--bin DIR] [--output FILE]
#   --bin DIR: binaries to run (default: hack/build.sh release)
#   --output:  default results/dashboard-series.jsonl
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="" out=results/dashboard-series.jsonl
while (($#)); do
  case "$1" in
    --bin) bin=$2; shift ;;
    --output) out=$2; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "record_dashboard_series.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$bin" ] || bin=$(hack/build.sh release | tail -n 1)
python=${CLEAVE_PYTHON_ENV:-/var/tmp/cleave-py}/bin/python3
log=$(mktemp /tmp/cleave-dashboard-series.XXXXXX)
trap 'rm -f "$log"' EXIT
hack/vm.sh --memory 2G --timeout 900 -- "$python" hack/monitoring/record_dashboard_series.py "$bin" > "$log"
sed -n 's/^SERIES //p' "$log" > "$out"
grep -v '^SERIES ' "$log" >&2 || true
echo "record_dashboard_series.sh: $(grep -c '"scrape"' "$out") scrapes in $out" >&2
