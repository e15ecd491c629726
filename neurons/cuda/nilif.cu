// CUDA NI-LIF (equations in neurons/nilif.hpp): one thread per neuron, membrane in a register, the
// shared step of neurons/step.hpp (rintf rounds half to even like the host's nearbyint); bit-identical
// to the reference.
#include <cuda_runtime.h>

#include "core/cuda/device_buffer.hpp"
#include "neurons/cuda/nilif.hpp"
#include "neurons/step.hpp"

namespace wtasim::cuda {
namespace {
using cuda_detail::blocks_for;
using cuda_detail::device_buffer;
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
    if (count) atomicAdd(events, count);
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

std::uint64_t nilif_forward(float* s, float* u, const float* x, std::size_t T, std::size_t n, const nilif_params& p,
                            op_counts* ops) {
    p.validate();
    device_buffer<float> d_x(x, T * n), d_s(T * n), d_u(T * n);
    device_buffer<unsigned long long> d_count(1);
    d_count.zero();
    if (n > 0) {
        nilif_forward_kernel<<<blocks_for(n), threads_per_block>>>(d_s.get(), d_u.get(), d_count.get(), d_x.get(), T, n,
                                                                   nilif_coeffs_of(p));
        WTASIM_CUDA_CHECK(cudaGetLastError());
    }
    unsigned long long events = 0;
    d_s.copy_to_host(s);
    d_u.copy_to_host(u);
    d_count.copy_to_host(&events);
    if (ops) ops->add(op_class::nu, T * n);
    return events;
}

void nilif_backward(float* dx, const float* ds, const float* u, std::size_t T, std::size_t n, const nilif_params& p) {
    p.validate();
    device_buffer<float> d_ds(ds, T * n), d_u(u, T * n), d_dx(T * n);
    if (n > 0) {
        nilif_backward_kernel<<<blocks_for(n), threads_per_block>>>(d_dx.get(), d_ds.get(), d_u.get(), T, n,
                                                                    nilif_coeffs_of(p));
        WTASIM_CUDA_CHECK(cudaGetLastError());
    }
    d_dx.copy_to_host(dx);
}

}  // namespace wtasim::cuda
