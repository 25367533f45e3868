#!/usr/bin/env bash
# Runs every test tier; exits non-zero if any test fails.
#   host tier: `swift test` against this machine's real cgroup2 hierarchy
#   VM tier:   the same test binary inside a QEMU guest with a pure cgroup v2
#              hierarchy (memory, cpu, pids), filtered to the VMTier suites
# Usage: hack/test.sh [--host-only | --vm-only] [--filter REGEX]
set -euo pipefail
cd "$(dirname "$0")/.."

tiers=(host vm)
filter=""
while (($#)); do
  case "$1" in
    --host-only) tiers=(host) ;;
    --vm-only) tiers=(vm) ;;
    --filter) filter=$2; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done

hack/setup.sh
bin=$(hack/build.sh debug | tail -n 1)
tests="$bin/cleavePackageTests.xctest"

leftover_check() {
  local left
  left=$(find /sys/fs/cgroup/unified -mindepth 1 -maxdepth 3 -type d \( -name 'cleave*' -o -path '*/cleave/*' \) 2>/dev/null || true)
  if [ -n "$left" ]; then
    echo "test.sh: cgroups left behind by the tests:" >&2
    echo "$left" >&2
    return 1
  fi
  if pgrep -f '^cleanup/' >/dev/null 2>&1; then
    echo "test.sh: teardown helpers left behind:" >&2
    ps -eo pid,ppid,comm | grep cleanup/ >&2
    return 1
  fi
}

status=0
for tier in "${tiers[@]}"; do
  echo "=== $tier tier ==="
  case "$tier" in
    host)
      args=(--skip-build)
      [ -n "$filter" ] && args+=(--filter "$filter")
      swift test "${args[@]}" || status=1
      leftover_check || status=1
      ;;
    vm)
      vm_filter=${filter:-VMTier}
      CLEAVE_TEST_TIER=vm hack/vm.sh --memory 2G --timeout 1500 -- \
        "$tests" --testing-library swift-testing --filter "$vm_filter" || status=1
      ;;
  esac
done
exit $status
