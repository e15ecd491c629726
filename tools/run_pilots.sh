#!/usr/bin/env bash
# Runs (or resumes, when its checkpoint exists) every scenario of a folder with `wtasim train`, N at a time, each into the
# output its scenario names, with a log beside it; then prints each run's final validation line.
# Usage: bash tools/run_pilots.sh scenarios/pilots [parallel runs, default 2]
set -euo pipefail
dir="$1" jobs="${2:-2}"
root="$(cd "$(dirname "$0")/.." && pwd)"
wtasim="${WTASIM:-$root/build/cpu-release/tools/wtasim}"
mkdir -p "$root/runs/pilots"
ls "$dir"/*.json | xargs -P "$jobs" -I{} sh -c \
  'name=$(basename {} .json); out=$(dirname {})/$(sed -n "s/.*\"output\": *\"\(.*\)\".*/\1/p" {});
   resume=; [ -f "$out/checkpoint.h5" ] && resume=--resume
   "$0" train {} $resume > "$1/runs/pilots/$name.log" 2>&1 || echo "$name failed"' \
  "$wtasim" "$root"
for f in "$dir"/*.json; do
  name=$(basename "$f" .json)
  echo "$name: $(grep 'eval step' "$root/runs/pilots/$name.log" | tail -1)"
done
