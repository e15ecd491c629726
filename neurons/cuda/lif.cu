// CUDA LIF (equations in neurons/lif.hpp). One thread per neuron carries its membrane through T in a
// register and calls the shared step of neurons/step.hpp; loads and stores over neurons are coalesced
// because time is the outer axis. Compiled with --fmad=false and IEEE division, so forward and backward
// are bit-identical to the reference.
#include <cuda_runtime.h>

#include "core/cuda/device_buffer.hpp"
#include "neurons/cuda/lif.hpp"
#include "neurons/step.hpp"

namespace wtasim::cuda {
namespace {
using cuda_detail::blocks_for;
using cuda_detail::device_buffer;
using cuda_detail::threads_per_block;

__global__ void lif_forward_kernel(float* s, float* h, unsigned long long* spikes, const float* x, std::size_t T,
                                   std::size_t n, lif_coeffs c) {
    const std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (i >= n) return;
    float v = c.v_reset;
    unsigned long long fired = 0;
    for (std::size_t t = 0; t < T; ++t) {
        const std::size_t k = t * n + i;
        float charged;
        const float spike = lif_forward_step(v, x[k], c, charged);
        h[k] = charged;
        s[k] = spike;
        fired += spike != 0.0f ? 1 : 0;
    }
    if (fired) atomicAdd(spikes, fired);
}

__global__ void lif_backward_kernel(float* dx, const float* ds, const float* s, const float* h, std::size_t T,
                                    std::size_t n, lif_coeffs c) {
    const std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (i >= n) return;
    float grad_v = 0.0f;
    for (std::size_t t = T; t-- > 0;) {
        const std::size_t k = t * n + i;
        dx[k] = lif_backward_step(grad_v, ds[k], s[k], h[k], c);
    }
}
}  // namespace

int device_count() {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
        cudaGetLastError();  // clear the sticky "no device" error
        return 0;
    }
    return count;
}

std::uint64_t lif_forward(float* s, float* h, const float* x, std::size_t T, std::size_t n, const lif_params& p,
                          op_counts* ops) {
    p.validate();
    device_buffer<float> d_x(x, T * n), d_s(T * n), d_h(T * n);
    device_buffer<unsigned long long> d_count(1);
    d_count.zero();
    if (n > 0) {
        lif_forward_kernel<<<blocks_for(n), threads_per_block>>>(d_s.get(), d_h.get(), d_count.get(), d_x.get(), T, n,
                                                                 lif_coeffs_of(p));
        WTASIM_CUDA_CHECK(cudaGetLastError());
    }
    unsigned long long spikes = 0;
    d_s.copy_to_host(s);
    d_h.copy_to_host(h);
    d_count.copy_to_host(&spikes);
    if (ops) ops->add(op_class::nu, T * n);
    return spikes;
}

void lif_backward(float* dx, const float* ds, const float* s, const float* h, std::size_t T, std::size_t n,
                  const lif_params& p) {
    p.validate();
    device_buffer<float> d_ds(ds, T * n), d_s(s, T * n), d_h(h, T * n), d_dx(T * n);
    if (n > 0) {
        lif_backward_kernel<<<blocks_for(n), threads_per_block>>>(d_dx.get(), d_ds.get(), d_s.get(), d_h.get(), T, n,
                                                                  lif_coeffs_of(p));
        WTASIM_CUDA_CHECK(cudaGetLastError());
    }
    d_dx.copy_to_host(dx);
}

}  // namespace wtasim::cuda
