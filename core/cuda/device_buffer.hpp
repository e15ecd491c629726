// An owning device allocation (plain cudaMalloc, never managed memory) with host<->device copies.
// Included only from .cu files.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "core/cuda/check.hpp"

namespace wtasim::cuda_detail {

template <class T>
class device_buffer {
public:
    explicit device_buffer(std::size_t count) : count_(count) {
        WTASIM_CUDA_CHECK(cudaMalloc(&ptr_, (count == 0 ? 1 : count) * sizeof(T)));
    }
    // A buffer holding a copy of host[0, count).
    device_buffer(const T* host, std::size_t count) : device_buffer(count) {
        WTASIM_CUDA_CHECK(cudaMemcpy(ptr_, host, count * sizeof(T), cudaMemcpyHostToDevice));
    }
    ~device_buffer() { cudaFree(ptr_); }
    device_buffer(const device_buffer&) = delete;
    device_buffer& operator=(const device_buffer&) = delete;

    T* get() const { return ptr_; }
    void zero() { WTASIM_CUDA_CHECK(cudaMemset(ptr_, 0, count_ * sizeof(T))); }
    void copy_to_host(T* host) const {
        WTASIM_CUDA_CHECK(cudaMemcpy(host, ptr_, count_ * sizeof(T), cudaMemcpyDeviceToHost));
    }

private:
    T* ptr_ = nullptr;
    std::size_t count_;
};

constexpr unsigned threads_per_block = 256;
inline unsigned blocks_for(std::size_t n) {
    return static_cast<unsigned>((n + threads_per_block - 1) / threads_per_block);
}

}  // namespace wtasim::cuda_detail
