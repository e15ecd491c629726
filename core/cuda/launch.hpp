// Launch geometry shared by the one-thread-per-element CUDA kernels.
#pragma once

#include <cstddef>

namespace wtasim::cuda_detail {

constexpr unsigned threads_per_block = 256;
inline unsigned blocks_for(std::size_t n) {
    return static_cast<unsigned>((n + threads_per_block - 1) / threads_per_block);
}

}  // namespace wtasim::cuda_detail
