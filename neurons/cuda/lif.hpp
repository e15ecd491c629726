// CUDA LIF forward/backward with the same names and arguments as the reference (neurons/lif.hpp).
// Pointers are host pointers: each call moves one whole [T, n] batch to the device and back, one thread
// per neuron looping over T. Only built when nvcc is found; only neurons/backend.cpp includes this.
#pragma once

#include "neurons/lif.hpp"

namespace wtasim::cuda {
std::uint64_t lif_forward(float* s, float* h, const float* x, std::size_t T, std::size_t n, const lif_params& p,
                          op_counts* ops = nullptr);
void lif_backward(float* dx, const float* ds, const float* s, const float* h, std::size_t T, std::size_t n,
                  const lif_params& p);
// Number of CUDA devices visible (0 when there is no GPU or no driver).
int device_count();
}  // namespace wtasim::cuda
