// Launches a kernel body (core/launch.hpp) on the GPU: one thread per element, the geometry of
// core/cuda/launch.hpp. Included from .cu files only.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "core/cuda/check.hpp"
#include "core/cuda/launch.hpp"

namespace wtasim::cuda_detail {

template <class Body>
__global__ void run_body(std::size_t n, Body body) {
    const std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
    if (i < n) body(i);
}

template <class Body>
void launch_body(std::size_t n, const Body& body) {
    if (n == 0) return;
    run_body<<<blocks_for(n), threads_per_block>>>(n, body);
    WTASIM_CUDA_CHECK(cudaGetLastError());
}

}  // namespace wtasim::cuda_detail
