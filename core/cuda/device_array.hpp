// An owning, move-only array in device memory (plain cudaMalloc, never managed memory) with explicit
// copies from and to host views (Arbor's device_vector): a resident backend allocates its tensors once
// and hands device_view's to kernels, so nothing crosses the bus unless a copy is written out.
// Needs the CUDA runtime (cuda_runtime.h and cudart): included from cuda/ folders and from code that
// links CUDA::cudart.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <utility>

#include "core/array_view.hpp"
#include "core/cuda/check.hpp"
#include "core/error.hpp"

namespace wtasim::cuda {

template <class T>
class device_array {
public:
    device_array() = default;
    // `size` elements, not initialised.
    explicit device_array(std::size_t size) : size_(size) {
        if (size > 0) WTASIM_CUDA_CHECK(cudaMalloc(&data_, size * sizeof(T)));
    }
    // A copy of `host`.
    explicit device_array(host_view<const T> host) : device_array(host.size()) { copy_from_host(host); }
    ~device_array() { release(); }

    device_array(device_array&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    device_array& operator=(device_array&& other) noexcept {
        if (this != &other) {
            release();
            data_ = std::exchange(other.data_, nullptr);
            size_ = std::exchange(other.size_, 0);
        }
        return *this;
    }
    device_array(const device_array&) = delete;
    device_array& operator=(const device_array&) = delete;

    std::size_t size() const { return size_; }
    device_view<T> view() { return {data_, size_}; }
    device_view<const T> view() const { return {data_, size_}; }

    // Blocking copies of the whole array; the host view must have exactly size() elements.
    void copy_from_host(host_view<const T> host) {
        check_size(host.size(), "copy_from_host");
        if (size_ > 0) WTASIM_CUDA_CHECK(cudaMemcpy(data_, host.data(), size_ * sizeof(T), cudaMemcpyHostToDevice));
    }
    void copy_to_host(host_view<T> host) const {
        check_size(host.size(), "copy_to_host");
        if (size_ > 0) WTASIM_CUDA_CHECK(cudaMemcpy(host.data(), data_, size_ * sizeof(T), cudaMemcpyDeviceToHost));
    }
    void zero() {
        if (size_ > 0) WTASIM_CUDA_CHECK(cudaMemset(data_, 0, size_ * sizeof(T)));
    }

private:
    void release() {
        if (data_) cudaFree(data_);  // no check: a destructor must not throw
        data_ = nullptr;
    }
    void check_size(std::size_t host_size, const char* what) const {
        if (host_size != size_)
            throw internal_error(std::string("device_array::") + what + ": host view of " + std::to_string(host_size) +
                                 " elements for a device array of " + std::to_string(size_));
    }

    T* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace wtasim::cuda
