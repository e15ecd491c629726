#!/usr/bin/env bash
# The device run of the CUDA simulator (docs/simulator.md, "The CUDA backend"), as one prepared command for a
# GPU machine lent to a task, in well under the command limit:
#   1. the kernel bodies' `cuda` tests, built there from header-only parts (CUDA, CMake and ninja are there;
#      none of the project's Debian libraries);
#   2. the project's own test binary and CLI, built here and carried with their shared libraries: the `cuda`
#      kernel-engine tests, the equivalence suite and the streaming tests with the cuda backend registered
#      (every backend of the build against the CPU engine), and `wtasim simulate --backend cuda` against
#      `--backend cpu` (same printed result and energy report; its trace checked by tests/sim/check_trace.py);
#   3. the benchmark: tools/bench_sim_cuda (cuda backend against the cpu backend and PyTorch on the GPU), the
#      trained D 256 model of runs/size/wd-d256 (weights only, carried; its position table repeated up to N),
#      batch 1 to 256, N 64 to 512; and the main job's model at N 64.
# Here, before the run (after `cmake --build --preset cpu-release`, which compiles CUDA when nvcc is found):
#     bash tools/device/run_cuda_tests.sh --prepare      (fills .device/, which git ignores and the run carries)
# On the GPU machine:
#     bash tools/device/run_cuda_tests.sh                 (with carry [".device"]; logs go to $OUT if set)
set -uo pipefail
cd "$(dirname "$0")/../.."
build_here=build/cpu-release
if [ "${1:-}" = "--prepare" ]; then
  set -e
  for f in tests/sim/test_sim tools/wtasim tools/bench_sim_cuda; do
    [ -x "$build_here/$f" ] || { echo "missing $build_here/$f: build the cpu-release preset with CUDA first" >&2; exit 1; }
  done
  rm -rf .device && mkdir -p .device/doctest/doctest .device/bundle/bin .device/bundle/lib
  cp /usr/include/doctest/doctest.h .device/doctest/doctest/
  cp "$build_here/tests/sim/test_sim" "$build_here/tools/wtasim" "$build_here/tools/bench_sim_cuda" .device/bundle/bin/
  # every shared library they need except the C library's own (the GPU machine has a newer one)
  ldd .device/bundle/bin/* | awk '/=>/ {print $3}' | sort -u |
    grep -v -E '/(libc|libm|libpthread|libdl|librt|libresolv)\.so|ld-linux' |
    while read -r lib; do cp -L "$lib" .device/bundle/lib/; done
  strip .device/bundle/bin/* 2>/dev/null || true
  # the trained D 256 model's weights (not its optimizer state), for the benchmark
  if [ -f runs/size/wd-d256/checkpoint.h5 ]; then
    /usr/bin/python3 - runs/size/wd-d256/checkpoint.h5 .device/wd-d256.h5 <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as src, h5py.File(sys.argv[2], "w", libver=("v110", "latest")) as dst:
    for k, v in src.attrs.items():
        dst.attrs[k] = v
    for group in ("params", "buffers", "tokenizer"):
        if group in src:
            src.copy(group, dst)
PY
  else
    echo "note: runs/size/wd-d256/checkpoint.h5 is absent; the benchmark will use the main job's model only"
  fi
  tar -C .device -cJf .device/bundle.tar.xz bundle && rm -rf .device/bundle
  grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo '/.device/' >> .git/info/exclude
  du -sh .device
  echo "prepared .device/ (carry it in the device run)"
  exit 0
fi
out="${OUT:-/tmp}"
status=0
step() { echo; echo "=== $*"; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

step "1. kernel bodies, built here from header-only parts"
build=/tmp/wtasim-device-build
if PATH="/usr/local/cuda/bin:$PATH" cmake -S tools/device -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
     -DDOCTEST_DIR="$PWD/.device/doctest" >/dev/null && cmake --build "$build" >/dev/null; then
  "$build/device_tests" 2>&1 | tee "$out/cuda_kernel_tests.log" || status=1
else
  echo "the header-only build failed"; status=1
fi

step "2. the carried test binary and CLI (cuda backend registered)"
tar -C /tmp -xJf .device/bundle.tar.xz
bin=/tmp/bundle/bin
export LD_LIBRARY_PATH="/tmp/bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
"$bin/wtasim" simulate --help | grep -- --backend
"$bin/test_sim" --test-case='cuda kernels*,sim:*,stream*,kernels:*' 2>&1 | tee "$out/cuda_sim_tests.log" | tail -4 || status=1
grep -q 'Status: SUCCESS' "$out/cuda_sim_tests.log" || status=1
for b in cpu cuda; do
  "$bin/wtasim" simulate models/wd-kjv-small.h5 --generate 3 --backend $b 2>/dev/null > "$out/simulate_$b.txt"
done
grep -v -e '^simulation:' -e '^wtasim run:' -e '^Checkpoint ' "$out/simulate_cpu.txt" > /tmp/a.txt
grep -v -e '^simulation:' -e '^wtasim run:' -e '^Checkpoint ' "$out/simulate_cuda.txt" > /tmp/b.txt
if cmp -s /tmp/a.txt /tmp/b.txt; then echo "simulate --backend cuda: the same result and report as cpu"; else
  echo "simulate --backend cuda DIFFERS from cpu:"; diff /tmp/a.txt /tmp/b.txt | head -20; status=1; fi
grep '^simulation:' "$out/simulate_cuda.txt"
"$bin/wtasim" simulate models/wd-kjv-small.h5 --backend cuda --trace /tmp/cuda.trace.h5 >/dev/null 2>&1 &&
  python3 tests/sim/check_trace.py /tmp/cuda.trace.h5 models/wd-kjv-small.h5 || status=1
"$bin/wtasim" generate models/wd-kjv-small.h5 --backend cuda --tokens 8 2>&1 | tail -3

step "3. benchmark: cuda backend vs cpu backend vs PyTorch (CUDA), same model and tokens"
if [ -f .device/wd-d256.h5 ]; then
  WTASIM_TOOLS="$PWD/tools" timeout 300 "$bin/bench_sim_cuda" .device/wd-d256.h5 1,16,64,256 64,128,256,512 3 16384 \
    2>&1 | tee "$out/bench_sim_cuda.log" || status=1
fi
WTASIM_TOOLS="$PWD/tools" timeout 60 "$bin/bench_sim_cuda" models/wd-kjv-small.h5 1,16,256 64 3 16384 \
  2>&1 | tee -a "$out/bench_sim_cuda.log" || status=1
echo; echo "device run: $([ $status = 0 ] && echo all passed || echo FAILURES above)"
exit $status
