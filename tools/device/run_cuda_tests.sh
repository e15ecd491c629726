#!/usr/bin/env bash
# The device run of the CUDA simulator's kernels (docs/simulator.md), as one prepared command for a GPU machine
# lent to a task: configure, build and run the `cuda` tests that need no project library, in well under the
# command limit. Here, before the run:  bash tools/device/run_cuda_tests.sh --prepare  (copies the doctest
# header into .device/, which git ignores and the run carries). On the GPU machine:
#     bash tools/device/run_cuda_tests.sh            (with carry [".device"]; writes its log to $OUT if set)
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${1:-}" = "--prepare" ]; then
  mkdir -p .device/doctest/doctest
  cp /usr/include/doctest/doctest.h .device/doctest/doctest/
  grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo '/.device/' >> .git/info/exclude
  echo "prepared .device/ (carry it in the device run)"
  exit 0
fi
out="${OUT:-/tmp}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
build=/tmp/wtasim-device-build
PATH="/usr/local/cuda/bin:$PATH" cmake -S tools/device -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DDOCTEST_DIR="$PWD/.device/doctest" >/dev/null
cmake --build "$build"
"$build/device_tests" 2>&1 | tee "$out/cuda_tests.log"
