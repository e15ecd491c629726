#!/usr/bin/env bash
# Runs a folder of training scenarios one row at a time, as the ablation and the runs at size of docs/RESULTS.md do
# (each row trains on its scenario's threads): for every name in <folder>/order.txt (or the names given), trains
# <folder>/<name>.json (resuming from its checkpoint when one is there), then, for a spiking model, runs it through
# the event-driven simulator on 8 validation windows of 64 tokens for its energy report (horowitz45-fp32); then
# prints the table (tools/ablation_table.py). Each row writes to the output its scenario names, which must be
# runs/<folder's name>/<name> (the table reads that folder); a row already done (its `done` file) is skipped, so the
# script can be stopped and started again and continues where it was. (tools/run_pilots.sh runs a folder N at a
# time, without energy reports.)
# Usage: bash tools/run_rows.sh scenarios/ablation [name ...]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
wtasim="${WTASIM:-$root/build/cpu-release/tools/wtasim}"
dir="$(cd "$1" && pwd)"
shift
runs="$root/runs/$(basename "$dir")"
names=("$@")
[ ${#names[@]} -eq 0 ] && mapfile -t names < "$dir/order.txt"
for name in "${names[@]}"; do
  out="$runs/$name"
  named=$(/usr/bin/python3 -c 'import json, os, sys; print(os.path.realpath(os.path.join(os.path.dirname(sys.argv[1]), json.load(open(sys.argv[1]))["output"])))' "$dir/$name.json")
  [ "$named" = "$(realpath -m "$out")" ] || { echo "rows: $name: its output is $named, expected $out"; exit 1; }
  [ -f "$out/done" ] && continue
  mkdir -p "$out"
  resume=
  [ -f "$out/checkpoint.h5" ] && resume=--resume
  echo "rows: $name $(date +%H:%M:%S)"
  "$wtasim" train "$dir/$name.json" $resume > "$out/train.log" 2>&1 || { echo "rows: $name failed (see $out/train.log)"; continue; }
  if grep -q '"spiking": true' "$dir/$name.json"; then
    cat > "$out/run.json" <<JSON
{
  "model": {"checkpoint": "checkpoint.h5"},
  "input": {"corpus": "kjv", "split": "valid", "sequences": 8, "seq_len": 64},
  "backend": "cpu",
  "batch": 8,
  "energy": {"profile": "horowitz45-fp32"},
  "report": {"json": "report.json"}
}
JSON
    "$wtasim" run "$out/run.json" > "$out/run.log" 2>&1 || { echo "rows: $name: simulation failed (see $out/run.log)"; continue; }
  fi
  touch "$out/done"
done
/usr/bin/python3 "$root/tools/ablation_table.py" "$runs" "${names[@]}"
