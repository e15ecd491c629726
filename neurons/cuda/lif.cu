// CUDA LIF (equations in neurons/lif.hpp). One thread per neuron carries its membrane through T in a
// register and calls the shared step of neurons/step.hpp; loads and stores over neurons are coalesced
// because time is the outer axis. Compiled with --fmad=false and IEEE division, so forward and backward
// are bit-identical to the reference.
#include <cuda_runtime.h>

#include "core/cuda/device_array.hpp"
#include "core/cuda/launch.hpp"
#include "neurons/cuda/lif.hpp"
#include "neurons/cuda/views.hpp"
#include "neurons/step.hpp"

namespace wtasim::cuda {
namespace {
using cuda_detail::blocks_for;
using cuda_detail::require_size;
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
    if (spikes && fired) atomicAdd(spikes, fired);
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

void lif_forward_device(device_view<float> s, device_view<float> h, device_view<unsigned long long> spikes,
                        device_view<const float> x, std::size_t T, std::size_t n, const lif_params& p, op_counts* ops) {
    p.validate();
    const char* op = "cuda::lif_forward_device";
    require_size(s, T * n, op, "s");
    require_size(h, T * n, op, "h");
    require_size(x, T * n, op, "x");
    if (spikes.size() > 1) throw internal_error("cuda::lif_forward_device: `spikes` is one counter or empty");
    if (n > 0 && T > 0) {
        lif_forward_kernel<<<blocks_for(n), threads_per_block>>>(s.data(), h.data(), spikes.data(), x.data(), T, n,
                                                                 lif_coeffs_of(p));
        WTASIM_CUDA_CHECK(cudaGetLastError());
    }
    if (ops) ops->add(op_class::nu, T * n);
}

void lif_backward_device(device_view<float> dx, device_view<const float> ds, device_view<const float> s,
                         device_view<const float> h, std::size_t T, std::size_t n, const lif_params& p) {
    p.validate();
    const char* op = "cuda::lif_backward_device";
    require_size(dx, T * n, op, "dx");
    require_size(ds, T * n, op, "ds");
    require_size(s, T * n, op, "s");
    require_size(h, T * n, op, "h");
    if (n > 0 && T > 0) {
        lif_backward_kernel<<<blocks_for(n), threads_per_block>>>(dx.data(), ds.data(), s.data(), h.data(), T, n,
                                                                  lif_coeffs_of(p));
        WTASIM_CUDA_CHECK(cudaGetLastError());
    }
}

std::uint64_t lif_forward(float* s, float* h, const float* x, std::size_t T, std::size_t n, const lif_params& p,
                          op_counts* ops) {
    p.validate();
    const std::size_t size = T * n;
    device_array<float> d_x(host_view<const float>(x, size)), d_s(size), d_h(size);
    device_array<unsigned long long> d_spikes(1);
    d_spikes.zero();
    lif_forward_device(d_s.view(), d_h.view(), d_spikes.view(), d_x.view(), T, n, p, ops);
    unsigned long long spikes = 0;
    d_s.copy_to_host({s, size});
    d_h.copy_to_host({h, size});
    d_spikes.copy_to_host({&spikes, 1});
    return spikes;
}

void lif_backward(float* dx, const float* ds, const float* s, const float* h, std::size_t T, std::size_t n,
                  const lif_params& p) {
    p.validate();
    const std::size_t size = T * n;
    device_array<float> d_ds(host_view<const float>(ds, size)), d_s(host_view<const float>(s, size)),
        d_h(host_view<const float>(h, size)), d_dx(size);
    lif_backward_device(d_dx.view(), d_ds.view(), d_s.view(), d_h.view(), T, n, p);
    d_dx.copy_to_host({dx, size});
}

}  // namespace wtasim::cuda
