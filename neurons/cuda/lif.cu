// CUDA LIF (equations in neurons/lif.hpp). One thread per neuron carries its membrane through T in a
// register; loads and stores over neurons are coalesced because time is the outer axis. Compiled with
// --fmad=false and IEEE division, so the forward follows the reference bit for bit; the backward
// differs only through the device expf (within 2 ulp) of the sigmoid surrogate.
#include "neurons/cuda/lif.hpp"

#include <cuda_runtime.h>

#include <vector>

#include "core/cuda/check.hpp"

namespace wtasim::cuda {
namespace {

struct device_lif {
    float tau, v_th, v_reset, alpha;
    bool decay_input, detach_reset, hard, sigmoid;
};

__device__ float surrogate_grad_device(const device_lif& p, float x) {
    if (p.sigmoid) {
        const float s = 1.0f / (1.0f + expf(-p.alpha * x));
        return p.alpha * s * (1.0f - s);
    }
    const float u = 3.14159265358979323846f / 2.0f * p.alpha * x;
    return p.alpha / 2.0f / (1.0f + u * u);
}

__global__ void lif_forward_kernel(float* s, float* h, unsigned long long* spikes, const float* x, std::size_t T,
                                   std::size_t n, device_lif p) {
    const std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (i >= n) return;
    float v = p.v_reset;
    unsigned long long fired = 0;
    for (std::size_t t = 0; t < T; ++t) {
        const std::size_t k = t * n + i;
        const float charged = p.decay_input ? v + (x[k] - (v - p.v_reset)) / p.tau : v - (v - p.v_reset) / p.tau + x[k];
        const float spike = charged >= p.v_th ? 1.0f : 0.0f;
        h[k] = charged;
        s[k] = spike;
        fired += charged >= p.v_th ? 1 : 0;
        v = p.hard ? (charged >= p.v_th ? p.v_reset : charged) : charged - spike * p.v_th;
    }
    if (fired) atomicAdd(spikes, fired);
}

__global__ void lif_backward_kernel(float* dx, const float* ds, const float* s, const float* h, std::size_t T,
                                    std::size_t n, device_lif p) {
    const std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (i >= n) return;
    const float leak = 1.0f - 1.0f / p.tau;
    float grad_v = 0.0f;
    for (std::size_t t = T; t-- > 0;) {
        const std::size_t k = t * n + i;
        const float g = surrogate_grad_device(p, h[k] - p.v_th);
        const float dv_dh = p.hard ? (1.0f - s[k]) + (p.detach_reset ? 0.0f : (p.v_reset - h[k]) * g)
                                   : 1.0f - (p.detach_reset ? 0.0f : p.v_th * g);
        const float grad_h = ds[k] * g + grad_v * dv_dh;
        dx[k] = p.decay_input ? grad_h / p.tau : grad_h;
        grad_v = grad_h * leak;
    }
}

device_lif to_device(const lif_params& p) {
    const bool hard = p.reset == reset_mode::hard;
    return {p.tau,
            p.v_th,
            hard ? p.v_reset : 0.0f,
            p.sg.alpha,
            p.decay_input,
            p.detach_reset,
            hard,
            p.sg.kind == surrogate_kind::sigmoid};
}

// A device buffer that frees itself.
struct device_buffer {
    void* ptr = nullptr;
    explicit device_buffer(std::size_t bytes) { WTASIM_CUDA_CHECK(cudaMalloc(&ptr, bytes == 0 ? 1 : bytes)); }
    ~device_buffer() { cudaFree(ptr); }
    device_buffer(const device_buffer&) = delete;
    device_buffer& operator=(const device_buffer&) = delete;
    template <class T>
    T* as() const {
        return static_cast<T*>(ptr);
    }
};

constexpr unsigned threads_per_block = 256;
unsigned blocks_for(std::size_t n) {
    return static_cast<unsigned>((n + threads_per_block - 1) / threads_per_block);
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
    const std::size_t bytes = T * n * sizeof(float);
    device_buffer dx(bytes), ds(bytes), dh(bytes), dcount(sizeof(unsigned long long));
    WTASIM_CUDA_CHECK(cudaMemcpy(dx.ptr, x, bytes, cudaMemcpyHostToDevice));
    WTASIM_CUDA_CHECK(cudaMemset(dcount.ptr, 0, sizeof(unsigned long long)));
    if (n > 0) {
        lif_forward_kernel<<<blocks_for(n), threads_per_block>>>(
            ds.as<float>(), dh.as<float>(), dcount.as<unsigned long long>(), dx.as<float>(), T, n, to_device(p));
        WTASIM_CUDA_CHECK(cudaGetLastError());
    }
    unsigned long long spikes = 0;
    WTASIM_CUDA_CHECK(cudaMemcpy(s, ds.ptr, bytes, cudaMemcpyDeviceToHost));
    WTASIM_CUDA_CHECK(cudaMemcpy(h, dh.ptr, bytes, cudaMemcpyDeviceToHost));
    WTASIM_CUDA_CHECK(cudaMemcpy(&spikes, dcount.ptr, sizeof(spikes), cudaMemcpyDeviceToHost));
    if (ops) ops->add(op_class::nu, T * n);
    return spikes;
}

void lif_backward(float* dx, const float* ds, const float* s, const float* h, std::size_t T, std::size_t n,
                  const lif_params& p) {
    p.validate();
    const std::size_t bytes = T * n * sizeof(float);
    device_buffer d_dx(bytes), d_ds(bytes), d_s(bytes), d_h(bytes);
    WTASIM_CUDA_CHECK(cudaMemcpy(d_ds.ptr, ds, bytes, cudaMemcpyHostToDevice));
    WTASIM_CUDA_CHECK(cudaMemcpy(d_s.ptr, s, bytes, cudaMemcpyHostToDevice));
    WTASIM_CUDA_CHECK(cudaMemcpy(d_h.ptr, h, bytes, cudaMemcpyHostToDevice));
    if (n > 0) {
        lif_backward_kernel<<<blocks_for(n), threads_per_block>>>(d_dx.as<float>(), d_ds.as<float>(), d_s.as<float>(),
                                                                  d_h.as<float>(), T, n, to_device(p));
        WTASIM_CUDA_CHECK(cudaGetLastError());
    }
    WTASIM_CUDA_CHECK(cudaMemcpy(dx, d_dx.ptr, bytes, cudaMemcpyDeviceToHost));
}

}  // namespace wtasim::cuda
