// Counter-based random numbers (Philox4x32-10, Salmon et al., SC'11 "Parallel random numbers: as easy
// as 1, 2, 3"). A number is a pure function of (seed, stream, index): no hidden state advances, so
// results are the same whatever the thread count or the order in which threads ask.
// Counter layout: {index lo, index hi, stream lo, stream hi}; key: {seed lo, seed hi}.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace wtasim {

using philox_block = std::array<std::uint32_t, 4>;

// The raw bijection: 10 Philox rounds of `counter` under `key`.
philox_block philox4x32_10(philox_block counter, std::array<std::uint32_t, 2> key);

class counter_rng {
public:
    explicit counter_rng(std::uint64_t seed) : seed_(seed) {}
    std::uint64_t seed() const { return seed_; }

    // Four independent 32-bit words for (stream, index).
    philox_block bits(std::uint64_t stream, std::uint64_t index) const;
    // Uniform in [0, 1) with 24 random bits (exactly representable in float).
    float uniform(std::uint64_t stream, std::uint64_t index) const;
    // Standard normal by Box-Muller on two words of the same block.
    float normal(std::uint64_t stream, std::uint64_t index) const;
    // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; bias below 2^-32 * n).
    std::uint32_t below(std::uint64_t stream, std::uint64_t index, std::uint32_t n) const;

    // Fill out[i] = uniform(stream, first + i) * (hi - lo) + lo, in parallel; thread-count independent.
    void fill_uniform(float* out, std::size_t n, std::uint64_t stream, std::uint64_t first, float lo, float hi) const;
    void fill_normal(float* out, std::size_t n, std::uint64_t stream, std::uint64_t first, float mean,
                     float stddev) const;

private:
    std::uint64_t seed_;
};

}  // namespace wtasim
