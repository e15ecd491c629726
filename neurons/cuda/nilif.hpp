// CUDA NI-LIF (equations in neurons/nilif.hpp) in the two forms of neurons/cuda/lif.hpp: device views
// for a resident caller (no copies; `events` counts the binary events m on the device), and the
// reference's host-pointer signature for the backend table (one copy in and out per call).
#pragma once

#include "core/array_view.hpp"
#include "neurons/nilif.hpp"

namespace wtasim::cuda {
void nilif_forward_device(device_view<float> s, device_view<float> u, device_view<unsigned long long> events,
                          device_view<const float> x, std::size_t T, std::size_t n, const nilif_params& p,
                          op_counts* ops = nullptr);
void nilif_backward_device(device_view<float> dx, device_view<const float> ds, device_view<const float> u,
                           std::size_t T, std::size_t n, const nilif_params& p);

std::uint64_t nilif_forward(float* s, float* u, const float* x, std::size_t T, std::size_t n, const nilif_params& p,
                            op_counts* ops = nullptr);
void nilif_backward(float* dx, const float* ds, const float* u, std::size_t T, std::size_t n, const nilif_params& p);
}  // namespace wtasim::cuda
