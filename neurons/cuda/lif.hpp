// CUDA LIF forward/backward (equations in neurons/lif.hpp), one thread per neuron carrying its
// membrane through T. Two forms:
// - lif_forward_device / lif_backward_device take device views (resident arrays, core/cuda/device_array.hpp)
//   and copy nothing: a resident simulator or trainer that keeps its tensors on the GPU across layers
//   and steps calls these. They are asynchronous on the default stream; the spike count is added on the
//   device to `spikes` (one counter; an empty view skips counting) and read back only when the caller
//   copies it.
// - lif_forward / lif_backward have the reference's names and host-pointer arguments: the entries of the
//   neuron backend table (neurons/backend.hpp), used by the consistency harness and the host-side
//   trainer. Each call copies its inputs to the device once, runs the device form, and copies the
//   outputs back.
// Per-channel constants (lif_channels) hold device pointers in the device form and host pointers in the
// host form; dtau / dv_th are [n] (an empty view or a null pointer: not wanted).
// Only built when nvcc is found; included by neurons/backend.cpp and by code that links CUDA.
#pragma once

#include "core/array_view.hpp"
#include "neurons/lif.hpp"

namespace wtasim::cuda {
// s, h [T, n] outputs; x [T, n] input; every view must hold T * n elements.
void lif_forward_device(device_view<float> s, device_view<float> h, device_view<unsigned long long> spikes,
                        device_view<const float> x, std::size_t T, std::size_t n, const lif_params& p,
                        op_counts* ops = nullptr, const lif_channels& ch = {});
void lif_backward_device(device_view<float> dx, device_view<const float> ds, device_view<const float> s,
                         device_view<const float> h, std::size_t T, std::size_t n, const lif_params& p,
                         const lif_channels& ch = {}, device_view<float> dtau = {}, device_view<float> dv_th = {});

std::uint64_t lif_forward(float* s, float* h, const float* x, std::size_t T, std::size_t n, const lif_params& p,
                          op_counts* ops = nullptr, const lif_channels& ch = {});
void lif_backward(float* dx, const float* ds, const float* s, const float* h, std::size_t T, std::size_t n,
                  const lif_params& p, const lif_channels& ch = {}, float* dtau = nullptr, float* dv_th = nullptr);

// Number of CUDA devices visible (0 when there is no GPU or no driver).
int device_count();
}  // namespace wtasim::cuda
