#!/usr/bin/env bash
# Builds the node agent's OCI image without a container engine (umoci), from scratch:
#   /usr/local/bin/cleave, /usr/local/bin/cleave-agent   release build, static PIEs
#   /usr/local/lib/cleave/libcleave-teardown.so           (cleave finds it in ../lib/cleave)
#   the shared libraries it links against (glibc), copied from this
#   Debian system with their copyright files; /etc/passwd and /etc/group naming
#   nobody (65534), the user the image runs as.
# Outputs, for the name and tag manifests/kubernetes/daemonset.yaml uses (cleave:VERSION):
#   DIR/oci                      OCI image layout  (umoci, skopeo: oci:DIR/oci:cleave:VERSION)
#   DIR/cleave-VERSION.oci.tar   its tarball       (podman load, skopeo oci-archive:, ctr import)
# Usage: hack/image.sh [--bin DIR] [--output DIR]   (prints the tarball's path last)
#   --bin DIR: use binaries already built there (hack/build.sh release prints it)
#   --output DIR: default results/image. Timestamps are the last commit's: the same
#   binaries give the same image digest.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="" out=results/image
while (($#)); do
  case "$1" in
    --bin) bin=$2; shift ;;
    --output) out=$2; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "image.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
command -v umoci >/dev/null || { echo "image.sh: umoci is missing (hack/setup.sh installs it)" >&2; exit 1; }
[ -n "$bin" ] || bin=$(hack/build.sh release | tail -n 1)
for f in cleave cleave-agent libcleave-teardown.so; do
  [ -f "$bin/$f" ] || { echo "image.sh: $bin/$f is missing (hack/build.sh release builds it)" >&2; exit 1; }
done
# A debug build links the Swift runtime dynamically: it would not run from scratch.
if ldd "$bin/cleave-agent" | grep -q 'libswiftCore'; then
  echo "image.sh: $bin/cleave-agent links the Swift runtime dynamically: give a release build (hack/build.sh release)" >&2
  exit 1
fi

version=$("$bin/cleave" --version)
ref="cleave:$version"
# Timestamps from the last commit, so that the same tree gives the same layer.
epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)

stage=$(mktemp -d /tmp/cleave-image.XXXXXX)
trap 'rm -rf "$stage"' EXIT
root=$stage/rootfs
install -d -m 0755 "$root/usr/local/bin" "$root/usr/local/lib/cleave" "$root/etc" "$root/usr/share/doc/cleave"
install -m 0755 -s "$bin/cleave" "$bin/cleave-agent" "$root/usr/local/bin/"
install -m 0644 -s "$bin/libcleave-teardown.so" "$root/usr/local/lib/cleave/"
install -m 0644 packaging/debian/copyright "$root/usr/share/doc/cleave/copyright"
# libcap is linked in (hack/build.sh): its BSD licence asks for its notices beside the binary.
# glibc is linked in too: its copyright file comes with the preload library's (below).
install -m 0644 /usr/share/doc/libcap2/copyright "$root/usr/share/doc/cleave/copyright.libcap2"

# The runtime closure: every library the loader resolves (and the loader itself), at the
# path it resolves it to, plus the copyright file of the Debian package that ships it. The
# release binaries are static ("statically linked", nothing listed): only the preload
# library, which runs in any program, needs the system's libc.
libs=$(for f in "$root/usr/local/bin/cleave" "$root/usr/local/bin/cleave-agent" "$root/usr/local/lib/cleave/libcleave-teardown.so"; do
         ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
       done | sort -u)
for lib in $libs; do
  real=$(readlink -f "$lib")
  install -D -m "$(stat -c %a "$real")" "$real" "$root$lib"
  # dpkg knows a library under the path its package ships it at (/lib or /usr/lib).
  pkg=$({ dpkg -S "$lib" || dpkg -S "$real"; } 2>/dev/null | head -n1 | cut -d: -f1 || true)
  [ -z "$pkg" ] || [ ! -f "/usr/share/doc/$pkg/copyright" ] ||
    install -D -m 0644 "/usr/share/doc/$pkg/copyright" "$root/usr/share/doc/$pkg/copyright"
done

# The DaemonSet runs the agent as 65534 (runAsNonRoot): name it, so that tools that
# look the user up find it. The agent needs no capability: it reads the host's cgroupfs
# and /proc, both world-readable where it reads, through read-only hostPath mounts.
printf 'root:x:0:0:root:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
find "$root" -type d -exec chmod 0755 {} +
find "$root" -exec touch -h -d "@$epoch" {} +

layout=$out/oci
archive=$out/cleave-$version.oci.tar
rm -rf "$layout" "$archive"
mkdir -p "$out"
umoci init --layout "$layout"
umoci new --image "$layout:$ref"
umoci insert --image "$layout:$ref" --history.created "$created" \
  --history.created_by "hack/image.sh: cleave $version binaries and their libraries" "$root" /
labels=(
  org.opencontainers.image.title=cleave
  org.opencontainers.image.description="cleave node agent: teardown and cgroup memory metrics for Prometheus"
  org.opencontainers.image.version="$version"
  org.opencontainers.image.revision="$revision"
  org.opencontainers.image.created="$created"
  org.opencontainers.image.source=https://github.com/cleave/cleave
  org.opencontainers.image.url=https://github.com/cleave/cleave
  org.opencontainers.image.vendor=cleave
  # No org.opencontainers.image.licenses: cleave has no published license yet (packaging/debian/copyright).
)
config=(--config.user 65534:65534 --config.workingdir / --config.exposedports 9464/tcp
        --config.entrypoint /usr/local/bin/cleave --config.cmd agent
        --config.env PATH=/usr/local/bin:/usr/bin:/bin
        --os linux --architecture "$(dpkg --print-architecture)" --created "$created"
        --author "cleave maintainers" --history.created "$created" --history.created_by "hack/image.sh: config")
for l in "${labels[@]}"; do config+=(--config.label "$l" --manifest.annotation "$l"); done
umoci config --image "$layout:$ref" "${config[@]}"
umoci gc --layout "$layout"
# containerd (ctr import) names an image after io.containerd.image.name; the kubelet asks
# for cleave:VERSION as docker.io/library/cleave:VERSION.
jq -c --arg name "docker.io/library/$ref" '.manifests[0].annotations["io.containerd.image.name"] = $name' \
  "$layout/index.json" > "$stage/index.json"
install -m 0644 "$stage/index.json" "$layout/index.json"

tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner -C "$layout" \
  -cf "$archive" oci-layout index.json blobs
echo "image.sh: $ref: $(du -sh "$archive" | cut -f1) ($archive; layout $layout)" >&2
echo "$archive"
