#!/usr/bin/env bash
# Training tokens/s of wtasim against its PyTorch twin on the same model config, batch, sequence length and
# thread count, in one run; prints both lines and ratio = ours / pytorch.
# Usage: bash tools/bench_train_vs_torch.sh [CONFIG_JSON] [batch=8] [seq_len=64] [steps=5] [threads=2]
set -euo pipefail
cd "$(dirname "$0")/.."
default_config='{"vocab": 2000, "d_model": 128, "heads": 4, "d_ff": 512, "layers": 2, "T": 4, "max_len": 64, "spiking": true, "causal": true, "neuron": "lif", "attention": {"kind": "wta", "k": 1}}'
config="${1:-$default_config}"
batch="${2:-8}" seq="${3:-64}" steps="${4:-5}" threads="${5:-2}"
# Both sides on the same threads, and both on the BLAS kernels this CPU supports: PyTorch's OpenBLAS is given
# them through OPENBLAS_CORETYPE (Debian's 0.3.21 takes some AVX-512 CPUs for a Prescott); bench_train
# chooses them itself (attention/blas_core.hpp) and prints which it uses.
flags=$(grep -m1 '^flags' /proc/cpuinfo)
core=Prescott
if grep -qw avx2 <<<"$flags" && grep -qw fma <<<"$flags"; then core=Haswell; fi
if grep -qw avx512f <<<"$flags" && grep -qw avx512bw <<<"$flags" && grep -qw avx512dq <<<"$flags" &&
  grep -qw avx512vl <<<"$flags"; then core=SkylakeX; fi
export OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
ours=$(build/cpu-release/tools/bench_train "$config" "$batch" "$seq" "$steps" "$threads")
theirs=$(OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-$core}" /usr/bin/python3 tools/torch_twin.py bench --config "$config" \
  --batch "$batch" --seq-len "$seq" --steps "$steps" --threads "$threads")
echo "$ours"
echo "$theirs blas=OpenBLAS-${OPENBLAS_CORETYPE:-$core} (OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=$threads)"
a=$(sed -n 's/.*tokens\/s=\([0-9.]*\).*/\1/p' <<<"$ours"); b=$(sed -n 's/.*tokens\/s=\([0-9.]*\).*/\1/p' <<<"$theirs")
python3 -c "print(f'ratio ours/pytorch = {$a/$b:.2f}')"
