// WTASIM_HOST_DEVICE marks small inline functions that CPU and CUDA code share, so that both compute
// with the same float operations (bit-identical results under -ffp-contract=off / --fmad=false).
#pragma once

#include <cstdint>
#if !defined(__CUDA_ARCH__)
#include <bit>
#endif

#if defined(__CUDACC__)
#define WTASIM_HOST_DEVICE __host__ __device__
#else
#define WTASIM_HOST_DEVICE
#endif

namespace wtasim {

WTASIM_HOST_DEVICE inline float bits_to_float(std::int32_t bits) {
#if defined(__CUDA_ARCH__)
    return __int_as_float(bits);
#else
    return std::bit_cast<float>(bits);
#endif
}

}  // namespace wtasim
