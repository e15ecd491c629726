// The one checking macro for CUDA runtime calls: a failure throws backend_error naming the call,
// file:line, the device and CUDA's own message. Included only from cuda/ folders.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "core/error.hpp"

namespace wtasim::cuda_detail {
[[noreturn]] inline void fail(cudaError_t err, const char* call, const char* file, int line) {
    int device = -1;
    cudaGetDevice(&device);
    throw backend_error(std::string(file) + ":" + std::to_string(line) + ": " + call + " failed on device " +
                        std::to_string(device) + ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")");
}
}  // namespace wtasim::cuda_detail

#define WTASIM_CUDA_CHECK(call)                                                                              \
    do {                                                                                                     \
        const cudaError_t wtasim_err_ = (call);                                                              \
        if (wtasim_err_ != cudaSuccess) ::wtasim::cuda_detail::fail(wtasim_err_, #call, __FILE__, __LINE__); \
    } while (0)
