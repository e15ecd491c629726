// WTASIM_HOST_DEVICE marks small inline functions that CPU and CUDA code share, so that both compute
// with the same float operations (bit-identical results under -ffp-contract=off / --fmad=false).
// The helpers below are the few operations whose spelling differs between host and device.
#pragma once

#include <cstdint>
#if !defined(__CUDA_ARCH__)
#include <bit>
#include <cmath>
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

// x rounded to the nearest integer, halves to even (the default rounding mode on both sides).
WTASIM_HOST_DEVICE inline float round_half_even(float x) {
#if defined(__CUDA_ARCH__)
    return rintf(x);
#else
    return std::nearbyint(x);
#endif
}

// x rounded to the nearest integer, halves away from zero (std::llround; an event count from a level).
WTASIM_HOST_DEVICE inline long long round_to_count(float x) {
#if defined(__CUDA_ARCH__)
    return llroundf(x);
#else
    return std::llround(x);
#endif
}

// e^x in single precision: the C library's expf on the host, CUDA's expf on the device (within 2 ulp of each
// other, not always the same bits: softmax attention on the GPU equals the host to a tolerance only).
WTASIM_HOST_DEVICE inline float exp_float(float x) {
#if defined(__CUDA_ARCH__)
    return expf(x);
#else
    return std::exp(x);
#endif
}

}  // namespace wtasim
