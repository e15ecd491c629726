// CUDA LIF (equations in neurons/lif.hpp). One thread per neuron carries its membrane through T in a
// register and calls the shared step of neurons/step.hpp; loads and stores over neurons are coalesced
// because time is the outer axis. Compiled with --fmad=false and IEEE division, so forward and backward
// are bit-identical to the reference. With per-channel constants (lif_channels holding device pointers)
// each thread takes its channel's coefficients; the parameter-gradient sums over t stay in registers.
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
                                   std::size_t n, lif_coeffs c0, lif_channels ch) {
    const std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (i >= n) return;
    const lif_coeffs c = ch.any() ? lif_channel_coeffs(c0, ch, i) : c0;
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

__global__ void lif_backward_kernel(float* dx, float* dtau, float* dv_th, const float* ds, const float* s,
                                    const float* h, std::size_t T, std::size_t n, lif_coeffs c0, lif_channels ch) {
    const std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (i >= n) return;
    const lif_coeffs c = ch.any() ? lif_channel_coeffs(c0, ch, i) : c0;
    float grad_v = 0.0f, sum_tau = 0.0f, sum_v_th = 0.0f;
    const bool sums = dtau != nullptr || dv_th != nullptr;
    for (std::size_t t = T; t-- > 0;) {
        const std::size_t k = t * n + i;
        if (sums) {
            const float v_prev = t > 0 ? lif_reset_membrane(s[k - n], h[k - n], c) : c.v_reset;
            dx[k] = lif_backward_step(grad_v, sum_tau, sum_v_th, ds[k], s[k], h[k], v_prev, c);
        } else {
            dx[k] = lif_backward_step(grad_v, ds[k], s[k], h[k], c);
        }
    }
    if (dtau) dtau[i] = sum_tau;
    if (dv_th) dv_th[i] = sum_v_th;
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
                        device_view<const float> x, std::size_t T, std::size_t n, const lif_params& p, op_counts* ops,
                        const lif_channels& ch) {
    p.validate();
    ch.validate(n);
    const char* op = "cuda::lif_forward_device";
    require_size(s, T * n, op, "s");
    require_size(h, T * n, op, "h");
    require_size(x, T * n, op, "x");
    if (spikes.size() > 1) throw internal_error("cuda::lif_forward_device: `spikes` is one counter or empty");
    if (n > 0 && T > 0) {
        lif_forward_kernel<<<blocks_for(n), threads_per_block>>>(s.data(), h.data(), spikes.data(), x.data(), T, n,
                                                                 lif_coeffs_of(p), ch);
        WTASIM_CUDA_CHECK(cudaGetLastError());
    }
    if (ops) ops->add(op_class::nu, T * n);
}

void lif_backward_device(device_view<float> dx, device_view<const float> ds, device_view<const float> s,
                         device_view<const float> h, std::size_t T, std::size_t n, const lif_params& p,
                         const lif_channels& ch, device_view<float> dtau, device_view<float> dv_th) {
    p.validate();
    ch.validate(n);
    const char* op = "cuda::lif_backward_device";
    if (!dtau.empty()) require_size(dtau, n, op, "dtau");
    if (!dv_th.empty()) require_size(dv_th, n, op, "dv_th");
    require_size(dx, T * n, op, "dx");
    require_size(ds, T * n, op, "ds");
    require_size(s, T * n, op, "s");
    require_size(h, T * n, op, "h");
    if (n > 0 && T > 0) {
        lif_backward_kernel<<<blocks_for(n), threads_per_block>>>(dx.data(), dtau.data(), dv_th.data(), ds.data(),
                                                                  s.data(), h.data(), T, n, lif_coeffs_of(p), ch);
        WTASIM_CUDA_CHECK(cudaGetLastError());
    }
}

namespace {
// Device copies of a layer's per-channel constants, and the lif_channels that points at them.
struct device_channels {
    device_array<float> tau, v_th;
    lif_channels ch;
    explicit device_channels(const lif_channels& host) {
        ch.C = host.C;
        if (host.tau) {
            tau = device_array<float>(host_view<const float>(host.tau, host.C));
            ch.tau = tau.view().data();
        }
        if (host.v_th) {
            v_th = device_array<float>(host_view<const float>(host.v_th, host.C));
            ch.v_th = v_th.view().data();
        }
    }
};
}  // namespace

std::uint64_t lif_forward(float* s, float* h, const float* x, std::size_t T, std::size_t n, const lif_params& p,
                          op_counts* ops, const lif_channels& ch) {
    p.validate();
    ch.validate(n);
    const std::size_t size = T * n;
    device_array<float> d_x(host_view<const float>(x, size)), d_s(size), d_h(size);
    device_array<unsigned long long> d_spikes(1);
    d_spikes.zero();
    const device_channels d_ch(ch);
    lif_forward_device(d_s.view(), d_h.view(), d_spikes.view(), d_x.view(), T, n, p, ops, d_ch.ch);
    unsigned long long spikes = 0;
    d_s.copy_to_host({s, size});
    d_h.copy_to_host({h, size});
    d_spikes.copy_to_host({&spikes, 1});
    return spikes;
}

void lif_backward(float* dx, const float* ds, const float* s, const float* h, std::size_t T, std::size_t n,
                  const lif_params& p, const lif_channels& ch, float* dtau, float* dv_th) {
    p.validate();
    ch.validate(n);
    const std::size_t size = T * n;
    device_array<float> d_ds(host_view<const float>(ds, size)), d_s(host_view<const float>(s, size)),
        d_h(host_view<const float>(h, size)), d_dx(size), d_dtau(dtau ? n : 0), d_dv_th(dv_th ? n : 0);
    const device_channels d_ch(ch);
    lif_backward_device(d_dx.view(), d_ds.view(), d_s.view(), d_h.view(), T, n, p, d_ch.ch, d_dtau.view(),
                        d_dv_th.view());
    d_dx.copy_to_host({dx, size});
    if (dtau) d_dtau.copy_to_host({dtau, n});
    if (dv_th) d_dv_th.copy_to_host({dv_th, n});
}

}  // namespace wtasim::cuda
