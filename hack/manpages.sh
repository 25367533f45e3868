#!/usr/bin/env bash
# Writes cleave's man pages into OUTDIR, generated from the command definitions by
# swift-argument-parser's generate-manual plugin (one page a subcommand; the internal
# __* commands and help are left out; `cleave agent` is documented from cleave-agent).
# Usage: hack/manpages.sh OUTDIR   (uses the debug build; the pages do not depend on it)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1
date=$(dpkg-parsechangelog -l packaging/debian/changelog -S Date 2>/dev/null | xargs -I{} date -u -d {} +%F || date -u +%F)
swift package --allow-writing-to-package-directory generate-manual --configuration debug \
  --multi-page --date "$date" --authors "cleave maintainers" >&2
pages=.build/plugins/GenerateManual/outputs
mkdir -p "$out"
for page in "$pages"/cleave/*.1; do
  name=$(basename "$page")
  case "$name" in cleave.__*|cleave.help.1|cleave.agent.1) continue ;; esac
  install -m 0644 "$page" "$out/${name//./-}"
done
# "cleave agent" is cleave-agent's own command name: its options live there.
install -m 0644 "$pages/cleave-agent/cleave agent.1" "$out/cleave-agent.1"
# file names use dashes (cleave-run.1); keep the first dot before the section.
for f in "$out"/*-1; do mv "$f" "${f%-1}.1"; done
ls "$out" >&2
