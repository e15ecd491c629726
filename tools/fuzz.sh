#!/usr/bin/env bash
# Builds the libFuzzer targets (preset "fuzz": Debian clang, ASan + UBSan) and fuzzes each one for SECONDS,
# starting from its committed seed corpus (tests/fuzz/corpus/<target>), JOBS targets at a time.
# Usage: bash tools/fuzz.sh [SECONDS=600] [TARGET...]   (docs/hardening.md)
# Findings (inputs that crash, leak, hang or throw a non-wtasim exception) land in build/fuzz/findings/<target>/;
# the script exits 1 when there is one. The grown corpus stays in build/fuzz/corpus/<target> (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
all=(run_scenario task_scenario train_scenario suite_scenario model_config energy_profile
     checkpoint trace glue_tsv boolq_jsonl multiple_choice_jsonl squad_json corpus_file)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
jobs=${JOBS:-$(nproc)}

# Debian's clang with its libFuzzer runtime (not needed for the normal build, so not in tools/setup.sh)
if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends clang libclang-rt-dev >/dev/null
fi
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target fuzz_all

out=build/fuzz
fuzz_one() {
    local t=$1
    rm -rf "$out/findings/$t" "$out/unreproduced/$t"
    mkdir -p "$out/corpus/$t" "$out/findings/$t" "$out/tmp/$t"
    cp -n tests/fuzz/corpus/"$t"/* "$out/corpus/$t/" 2>/dev/null || true
    # Fork mode keeps fuzzing after a finding (each is saved), so every target gets its whole time.
    # -rss_limit_mb (and malloc_limit_mb, the same by default): a reader must stay in bounded memory;
    # -timeout: no input may take 10 s. allocator_may_return_null: a huge malloc fails as it would without
    # ASan (libraries then report an error); an allocation of ours past the limit is still a finding.
    TMPDIR="$out/tmp/$t" ASAN_OPTIONS=allocator_may_return_null=1 \
        LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp" \
        "$out/tests/fuzz/fuzz_$t" "$out/corpus/$t" -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=400000 \
        -artifact_prefix="$out/findings/$t/" >"$out/$t.log" 2>&1 || true
    # Fork mode may save an input for a crash it cannot pin on one input (a leak seen when a job ends):
    # every saved input is replayed alone, and one that passes alone moves to unreproduced/.
    local f
    for f in "$out/findings/$t"/*; do
        [ -f "$f" ] || continue
        if TMPDIR="$out/tmp/$t" ASAN_OPTIONS=allocator_may_return_null=1 \
            LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp" \
            "$out/tests/fuzz/fuzz_$t" -rss_limit_mb=2048 -timeout=10 "$f" >/dev/null 2>&1; then
            mkdir -p "$out/unreproduced/$t" && mv "$f" "$out/unreproduced/$t/"
        fi
    done
    local last
    last=$(grep -E '^#[0-9]+: cov' "$out/$t.log" | tail -1)
    echo "fuzz: $t (${seconds}s): ${last:-no progress line, see $out/$t.log}; findings $(ls "$out/findings/$t" | wc -l)," \
         "unreproduced $(ls "$out/unreproduced/$t" 2>/dev/null | wc -l)"
}
running=0
for t in "${targets[@]}"; do
    fuzz_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait
found=$(find "$out/findings" -type f | wc -l)
if [ "$found" -gt 0 ]; then
    echo "fuzz: $found finding(s):"; find "$out/findings" -type f
    exit 1
fi
echo "fuzz: no findings"
