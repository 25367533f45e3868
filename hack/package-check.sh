#!/usr/bin/env bash
# Builds the Debian package (hack/package.sh: release build, static Swift runtime), checks it
# with lintian (no errors), installs it into a scratch root with dpkg --root and runs the
# installed cleave from there: --version, and `cleave run` whose workload must get the
# packaged library (/usr/lib/cleave) preloaded and whose status is relayed.
# Usage: hack/package-check.sh [--bin DIR]   (exit non-zero on any failure)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d /tmp/cleave-package-check.XXXXXX)
root=$out/root
cgroup=cleave-test-package-$$
trap 'rm -rf "$out"; rmdir "/sys/fs/cgroup/unified/$cgroup" "/sys/fs/cgroup/$cgroup" 2>/dev/null || true' EXIT
deb=$(hack/package.sh "$@" --output "$out" | tail -n 1)
failed=0
check() { if "$@"; then echo "package-check: ok: $*"; else echo "package-check: FAILED: $*" >&2; failed=1; fi; }

lint() { lintian --fail-on error "$deb" 2>&1 | grep -v '^running with root privileges' >&2; return "${PIPESTATUS[0]}"; }
check lint
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
: > "$root/var/lib/dpkg/status"
install_it() { dpkg --root="$root" --force-depends -i "$deb" >&2; }
check install_it
for f in usr/bin/cleave usr/bin/cleave-agent usr/lib/cleave/libcleave-teardown.so lib/systemd/system/cleave-agent.service \
         usr/share/containers/oci/hooks.d/cleave.json usr/share/man/man1/cleave-run.1.gz \
         usr/share/bash-completion/completions/cleave usr/share/doc/cleave/copyright; do
  check test -e "$root/$f"
done
version() { "$root/usr/bin/cleave" --version | grep -qxE '[0-9]+\.[0-9]+\.[0-9]+'; }
check version
run() {
  local output status=0
  output=$("$root/usr/bin/cleave" run --cgroup "$cgroup" -- sh -c 'echo "$LD_PRELOAD"; exit 3') || status=$?
  [ "$status" = 3 ] && [ "$output" = "$root/usr/bin/../lib/cleave/libcleave-teardown.so" ] ||
    { echo "status $status, LD_PRELOAD '$output'" >&2; return 1; }
}
check run
[ "$failed" = 0 ] && echo "package-check: $deb passed" || exit 1
