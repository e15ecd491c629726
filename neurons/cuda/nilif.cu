// CUDA NI-LIF (equations in neurons/nilif.hpp): one thread per neuron, membrane in a register, the
// shared step of neurons/step.hpp (rintf rounds half to even like the host's nearbyint); bit-identical
// to the reference.
#include <cuda_runtime.h>

#include "core/cuda/device_array.hpp"
#include "core/cuda/launch.hpp"
#include "neurons/cuda/nilif.hpp"
#include "neurons/cuda/views.hpp"
#include "neurons/step.hpp"

namespace wtasim::cuda {
namespace {
using cuda_detail::blocks_for;
using cuda_detail::require_size;
using cuda_detail::threads_per_block;

__global__ void nilif_forward_kernel(float* s, float* u, unsigned long long* events, const float* x, std::size_t T,
                                     std::size_t n, nilif_coeffs c) {
    const std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (i >= n) return;
    float hm = 0.0f;
    unsigned long long count = 0;
    for (std::size_t t = 0; t < T; ++t) {
        const std::size_t k = t * n + i;
        float membrane, level;
        s[k] = nilif_forward_step(hm, x[k], c, membrane, level);
        u[k] = membrane;
        count += static_cast<unsigned long long>(level);
    }
    if (events && count) atomicAdd(events, count);
}

__global__ void nilif_backward_kernel(float* dx, const float* ds, const float* u, std::size_t T, std::size_t n,
                                      nilif_coeffs c) {
    const std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (i >= n) return;
    float grad_hm = 0.0f;
    for (std::size_t t = T; t-- > 0;) {
        const std::size_t k = t * n + i;
        dx[k] = nilif_backward_step(grad_hm, ds[k], u[k], c);
    }
}
}  // namespace

void nilif_forward_device(device_view<float> s, device_view<float> u, device_view<unsigned long long> events,
                          device_view<const float> x, std::size_t T, std::size_t n, const nilif_params& p,
                          op_counts* ops) {
    p.validate();
    const char* op = "cuda::nilif_forward_device";
    require_size(s, T * n, op, "s");
    require_size(u, T * n, op, "u");
    require_size(x, T * n, op, "x");
    if (events.size() > 1) throw internal_error("cuda::nilif_forward_device: `events` is one counter or empty");
    if (n > 0 && T > 0) {
        nilif_forward_kernel<<<blocks_for(n), threads_per_block>>>(s.data(), u.data(), events.data(), x.data(), T, n,
                                                                   nilif_coeffs_of(p));
        WTASIM_CUDA_CHECK(cudaGetLastError());
    }
    if (ops) ops->add(op_class::nu, T * n);
}

void nilif_backward_device(device_view<float> dx, device_view<const float> ds, device_view<const float> u,
                           std::size_t T, std::size_t n, const nilif_params& p) {
    p.validate();
    const char* op = "cuda::nilif_backward_device";
    require_size(dx, T * n, op, "dx");
    require_size(ds, T * n, op, "ds");
    require_size(u, T * n, op, "u");
    if (n > 0 && T > 0) {
        nilif_backward_kernel<<<blocks_for(n), threads_per_block>>>(dx.data(), ds.data(), u.data(), T, n,
                                                                    nilif_coeffs_of(p));
        WTASIM_CUDA_CHECK(cudaGetLastError());
    }
}

std::uint64_t nilif_forward(float* s, float* u, const float* x, std::size_t T, std::size_t n, const nilif_params& p,
                            op_counts* ops) {
    p.validate();
    const std::size_t size = T * n;
    device_array<float> d_x(host_view<const float>(x, size)), d_s(size), d_u(size);
    device_array<unsigned long long> d_events(1);
    d_events.zero();
    nilif_forward_device(d_s.view(), d_u.view(), d_events.view(), d_x.view(), T, n, p, ops);
    unsigned long long events = 0;
    d_s.copy_to_host({s, size});
    d_u.copy_to_host({u, size});
    d_events.copy_to_host({&events, 1});
    return events;
}

void nilif_backward(float* dx, const float* ds, const float* u, std::size_t T, std::size_t n, const nilif_params& p) {
    p.validate();
    const std::size_t size = T * n;
    device_array<float> d_ds(host_view<const float>(ds, size)), d_u(host_view<const float>(u, size)), d_dx(size);
    nilif_backward_device(d_dx.view(), d_ds.view(), d_u.view(), T, n, p);
    d_dx.copy_to_host({dx, size});
}

}  // namespace wtasim::cuda
