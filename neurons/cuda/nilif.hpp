// CUDA NI-LIF with the reference's names and arguments (neurons/nilif.hpp); host pointers, one batch
// per call. Only neurons/backend.cpp includes this.
#pragma once

#include "neurons/nilif.hpp"

namespace wtasim::cuda {
std::uint64_t nilif_forward(float* s, float* u, const float* x, std::size_t T, std::size_t n, const nilif_params& p,
                            op_counts* ops = nullptr);
void nilif_backward(float* dx, const float* ds, const float* u, std::size_t T, std::size_t n, const nilif_params& p);
}  // namespace wtasim::cuda
