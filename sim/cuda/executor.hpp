// The GPU's executor for the kernel engine (sim/kernel_engine.hpp): buffers in device memory
// (core/cuda/device_array.hpp), bodies launched by sim/cuda/kernels.cu. Built only with CUDA.
#pragma once

#include <cuda_runtime.h>

#include <vector>

#include "core/cuda/device_array.hpp"
#include "sim/cuda/kernels.hpp"

namespace wtasim::cuda {

struct executor {
    template <class T>
    struct buffer {
        device_array<T> a;
        T* data() { return a.view().data(); }
        const T* data() const { return a.view().data(); }
        std::size_t size() const { return a.size(); }
    };
    template <class T>
    buffer<T> upload(const std::vector<T>& host) const {
        return buffer<T>{device_array<T>(host_view<const T>(host.data(), host.size()))};
    }
    template <class T>
    std::vector<T> download(const buffer<T>& b) const {
        std::vector<T> host(b.size());
        b.a.copy_to_host(host_view<T>(host.data(), host.size()));  // blocking: waits for the kernels before it
        return host;
    }
    template <class T>
    std::vector<T> download(const buffer<T>& b, std::size_t n) const {
        std::vector<T> host(n);
        if (n > b.size()) throw internal_error("executor::download: more elements than the buffer holds");
        if (n) WTASIM_CUDA_CHECK(cudaMemcpy(host.data(), b.data(), n * sizeof(T), cudaMemcpyDeviceToHost));
        return host;
    }
    template <class T>
    buffer<T> zeros(std::size_t n) const {
        buffer<T> b{device_array<T>(n)};
        if (n) WTASIM_CUDA_CHECK(cudaMemset(b.data(), 0, n * sizeof(T)));
        return b;
    }
    template <class Body>
    void launch(const Body& body, std::size_t n) const {
        cuda::launch(body, n);
    }
};

}  // namespace wtasim::cuda
