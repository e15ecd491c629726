#!/usr/bin/env bash
# `wtasim train` killed with SIGKILL mid-run, then `--resume`d, ends with the same loss curve and the
# same final validation line as an uninterrupted run. Usage: resume_after_kill.sh WTASIM SCENARIO WORKDIR
set -euo pipefail
wtasim="$1" scenario="$2" work="$3"
rm -rf "$work" && mkdir -p "$work"
sed "s|\"output\": *\"[^\"]*\"|\"output\": \"$work/whole\"|" "$scenario" > "$work/whole.json"
sed "s|\"output\": *\"[^\"]*\"|\"output\": \"$work/killed\"|" "$scenario" > "$work/killed.json"
"$wtasim" train "$work/whole.json" > "$work/whole.log" 2>&1
"$wtasim" train "$work/killed.json" > "$work/killed.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do  # wait for the first checkpoint, then kill at once
  [ -f "$work/killed/checkpoint.h5" ] && break
  sleep 0.01
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
"$wtasim" train --resume "$work/killed.json" > "$work/resumed.log" 2>&1
grep -q "resumed from" "$work/resumed.log" || { echo "FAIL: did not resume"; cat "$work/resumed.log"; exit 1; }
at=$(sed -n 's/.*resumed from .* at step \([0-9]*\).*/\1/p' "$work/resumed.log")
total=$(grep -o '"steps": *[0-9]*' "$scenario" | grep -o '[0-9]*$')
[ -n "$at" ] || { echo "FAIL: no resume step"; exit 1; }
# the kill must have landed mid-run, or this test proves nothing about resuming
[ "$at" -lt "$total" ] || { echo "FAIL: the run had finished (step $at of $total) before the kill; nothing was resumed"; exit 1; }
if grep -q "step $at/.*" "$work/resumed.log"; then echo "FAIL: resumed run repeated step $at"; exit 1; fi
# a write interrupted by the kill leaves at most a temporary file beside the checkpoint, never a broken checkpoint
rm -f "$work"/killed/.checkpoint.h5.tmp.*
echo "killed at step $at of $total; resumed from there"
strip() { sed 's/,"tokens_per_s":[^}]*//' "$1"; }
if ! diff <(strip "$work/whole/metrics.jsonl") <(strip "$work/killed/metrics.jsonl"); then
  echo "FAIL: the resumed loss curve differs from the uninterrupted one"; exit 1
fi
a=$(grep "^eval step" "$work/whole.log" | tail -1); b=$(grep "^eval step" "$work/resumed.log" | tail -1)
[ "$a" = "$b" ] || { echo "FAIL: final eval differs: '$a' vs '$b'"; exit 1; }
echo "resume after kill -9: identical curve ($(wc -l < "$work/whole/metrics.jsonl") metric lines), $a"
