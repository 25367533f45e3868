#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, swiftc -sanitize=fuzzer,address) of cleave's parsers.
# Usage: hack/fuzz.sh TARGET [SECONDS]     one target (default 30 s)
#        hack/fuzz.sh all [SECONDS]        every target in turn, SECONDS each
#        hack/fuzz.sh --list               the targets
#        hack/fuzz.sh --build              only build the harnesses
# Targets: json spec hook-state hooks-d stats mountinfo size duration (Fuzz/Sources/<target>).
# Seeds are Fuzz/corpus/<target>/ (read only); what libFuzzer finds and any crash go to a
# scratch directory (CLEAVE_FUZZ_DIR, default a new /tmp/cleave-fuzz.XXXXXX), which is kept
# and printed when a crash is found, removed otherwise (CLEAVE_FUZZ_KEEP=1 keeps it).
# Exits 1 when a target crashed, tripped a sanitizer or broke a harness's check.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(json spec hook-state hooks-d stats mountinfo size duration)
scratch_build=.build-fuzz

usage() { sed -n '2,11p' "$0"; }
[ $# -ge 1 ] || { usage >&2; exit 2; }
case "$1" in
  -h|--help) usage; exit 0 ;;
  --list) printf '%s\n' "${targets[@]}"; exit 0 ;;
  --build) selected=() ;;
  all) selected=("${targets[@]}") ;;
  *)
    [[ " ${targets[*]} " == *" $1 "* ]] || { echo "fuzz.sh: unknown target '$1' (hack/fuzz.sh --list)" >&2; exit 2; }
    selected=("$1") ;;
esac
seconds=${2:-30}
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: SECONDS '$seconds' is not a positive whole number" >&2; exit 2; }

# The harness package depends on cleave's (path ".."); -parse-as-library because each
# harness defines LLVMFuzzerTestOneInput and libFuzzer supplies main.
build=(swift build --package-path Fuzz --scratch-path "$scratch_build" -c debug
       -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)
"${build[@]}" >&2
bin=$("${build[@]}" --show-bin-path)
[ ${#selected[@]} -gt 0 ] || { echo "$bin"; exit 0; }

dir=${CLEAVE_FUZZ_DIR:-$(mktemp -d /tmp/cleave-fuzz.XXXXXX)}
mkdir -p "$dir"
# Files a harness writes for each input (stats: a fake cgroup directory) go to memory when
# /dev/shm is there: on a disk shared with builds, each input's writes waited on the journal.
scratch_tmp=$(mktemp -d /dev/shm/cleave-fuzz-tmp.XXXXXX 2>/dev/null || mktemp -d "$dir/tmp.XXXXXX")
trap 'rm -rf "$scratch_tmp"' EXIT
failed=()
for target in "${selected[@]}"; do
  mkdir -p "$dir/corpus/$target" "$dir/artifacts/$target"
  dict=()
  [ -f "Fuzz/dict/$target.dict" ] && dict=(-dict="Fuzz/dict/$target.dict")
  echo "=== fuzz $target: ${seconds}s ==="
  # The first corpus directory receives new inputs; the repository's seeds are only read.
  # Leak checking is off: the Swift runtime's metadata caches look like leaks to LSan.
  # Swift's backtracer off: libFuzzer reports the trap (SIGILL) and saves the input itself.
  if TMPDIR="$scratch_tmp" ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 SWIFT_BACKTRACE=enable=no \
     "$bin/fuzz-$target" "$dir/corpus/$target" "Fuzz/corpus/$target" "${dict[@]}" \
       -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
       -use_value_profile=1 -print_final_stats=1 \
       -artifact_prefix="$dir/artifacts/$target/" > "$dir/$target.log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "$dir/$target.log" || true
  else
    failed+=("$target")
    tail -n 40 "$dir/$target.log"
    echo "fuzz.sh: $target failed; reproduce with: $bin/fuzz-$target $dir/artifacts/$target/<file>" >&2
    ls -l "$dir/artifacts/$target" >&2
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]} (logs, corpus and crash inputs kept in $dir)" >&2
  exit 1
fi
echo "fuzz.sh: no crash in ${selected[*]} (${seconds}s each)"
if [ "${CLEAVE_FUZZ_KEEP:-0}" = 1 ] || [ -n "${CLEAVE_FUZZ_DIR:-}" ]; then echo "fuzz.sh: kept $dir"; else rm -rf "$dir"; fi
