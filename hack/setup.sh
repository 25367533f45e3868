#!/usr/bin/env bash
# Installs the Debian packages cleave needs to build and test. Idempotent and
# quick when everything is present: apt runs only for what is missing.
set -euo pipefail

packages=(
  libcap-dev          # capabilities for OCI process.capabilities
  libstdc++-12-dev    # libstdc++.a: the release build links the C++ runtime in (hack/build.sh)
  qemu-system-x86     # the VM test tier (pure cgroup v2 kernel)
  linux-image-amd64   # Debian's kernel for that VM
  busybox-static      # the VM's initramfs
  cpio kmod           # building the initramfs
  xz-utils            # unpacking the kernel image for the VM (vm.sh)
  crun                # OCI hook tests in the VM tier, spawn benchmark
  cgroup-tools        # cgexec, for the spawn benchmark
  python3-matplotlib  # hack/bench.sh plots (Debian's /usr/bin/python3)
  # The real-program tier (RealProgramTests) and the benchmark's real-program table
  openjdk-17-jre-headless redis-server redis-tools nodejs python3
  util-linux gosu     # setpriv, runuser; gosu: privilege-dropping launchers
  dpkg-dev lintian    # hack/package.sh (dpkg-shlibdeps) and hack/package-check.sh
  umoci skopeo jq     # hack/image.sh builds the agent's OCI image; ImageVMTierTests inspects and unpacks it
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  [ "$(id -u)" = 0 ] || { echo "setup: need root to install: ${missing[*]}" >&2; exit 1; }
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # A package's maintainer scripts must not start a service (redis-server's
  # would leave a redis listening on 6379 on every test machine): invoke-rc.d
  # obeys policy-rc.d, and exit status 101 means "action forbidden". Ours is
  # removed afterwards unless one was already there.
  policy=/usr/sbin/policy-rc.d own_policy=
  if [ ! -e "$policy" ]; then
    own_policy=1
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -z "$own_policy" ] || { rm -f "$policy"; trap - EXIT; }
fi

# Even with the policy, systemd would start redis-server at the next boot: the
# tests start their own redis on a free port, the packaged service stays off.
if command -v systemctl >/dev/null && [ -d /run/systemd/system ] &&
   systemctl is-enabled --quiet redis-server 2>/dev/null; then
  systemctl disable --now redis-server >&2 || echo "setup: warning: cannot disable redis-server.service" >&2
fi

# Python tools for the agent's tests, in a venv of Debian's python3 (also seen
# by the VM guest, which shares this root): prometheus_client parses /metrics
# with the reference parser; kubernetes-validate checks the manifests.
pyenv_dir=${CLEAVE_PYTHON_ENV:-/var/tmp/cleave-py}
if ! "$pyenv_dir/bin/python3" -c 'import prometheus_client, promql_parser, yaml' 2>/dev/null || [ ! -x "$pyenv_dir/bin/kubernetes-validate" ]; then
  echo "setup: installing prometheus_client and kubernetes-validate into $pyenv_dir" >&2
  if /usr/bin/python3 -m venv "$pyenv_dir" >&2; then
    "$pyenv_dir/bin/pip" install -q prometheus_client >&2 ||
      echo "setup: warning: cannot install prometheus_client (the agent's metric tests will fail)" >&2
    # promql-parser and PyYAML: the dashboard and rule expressions check (hack/monitoring).
    "$pyenv_dir/bin/pip" install -q promql-parser pyyaml >&2 ||
      echo "setup: warning: cannot install promql-parser (the monitoring test will fail)" >&2
    "$pyenv_dir/bin/pip" install -q kubernetes-validate >&2 ||
      echo "setup: warning: cannot install kubernetes-validate (the manifest test will be skipped)" >&2
  else
    echo "setup: warning: cannot create a venv in $pyenv_dir" >&2
  fi
fi

# promtool, for the monitoring tests (the agent's exposition, the rules and their unit
# tests): taken out of Debian's prometheus package with dpkg -x, so that no Prometheus
# server is installed or started and its web assets are not pulled in.
tools_dir=${CLEAVE_TOOLS_DIR:-/var/tmp/cleave-tools}
if [ ! -x "$tools_dir/promtool" ]; then
  echo "setup: extracting promtool from Debian's prometheus package into $tools_dir" >&2
  mkdir -p "$tools_dir"
  scratch=$(mktemp -d)
  if ! (cd "$scratch" && apt-get download -qq prometheus >/dev/null 2>&1); then
    apt-get update -qq
    (cd "$scratch" && apt-get download -qq prometheus >/dev/null)
  fi
  dpkg -x "$scratch"/prometheus_*.deb "$scratch/root"
  install -m 0755 "$scratch/root/usr/bin/promtool" "$tools_dir/promtool"
  rm -rf "$scratch"
fi
