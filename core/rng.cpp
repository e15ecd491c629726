// Philox4x32-10 (Salmon, Moraes, Dror, Shaw, SC'11). Round: two 32x32->64 multiplies of counter words
// 0 and 2, the high halves xor-ed with the other words and the key; the key is bumped by the Weyl
// constants between rounds.
#include "core/rng.hpp"

#include <cmath>
#include <numbers>

#include "core/parallel.hpp"

namespace wtasim {
namespace {
constexpr std::uint32_t philox_m0 = 0xD2511F53u;
constexpr std::uint32_t philox_m1 = 0xCD9E8D57u;
constexpr std::uint32_t philox_w0 = 0x9E3779B9u;
constexpr std::uint32_t philox_w1 = 0xBB67AE85u;

inline philox_block philox_round(const philox_block& c, const std::array<std::uint32_t, 2>& k) {
    const std::uint64_t p0 = std::uint64_t{philox_m0} * c[0];
    const std::uint64_t p1 = std::uint64_t{philox_m1} * c[2];
    const auto hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
    const auto hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
    return {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
}

constexpr float two_pow_minus_24 = 1.0f / 16777216.0f;
}  // namespace

philox_block philox4x32_10(philox_block counter, std::array<std::uint32_t, 2> key) {
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            key[0] += philox_w0;
            key[1] += philox_w1;
        }
        counter = philox_round(counter, key);
    }
    return counter;
}

philox_block counter_rng::bits(std::uint64_t stream, std::uint64_t index) const {
    return philox4x32_10({static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(index >> 32),
                          static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32)},
                         {static_cast<std::uint32_t>(seed_), static_cast<std::uint32_t>(seed_ >> 32)});
}

float counter_rng::uniform(std::uint64_t stream, std::uint64_t index) const {
    return static_cast<float>(bits(stream, index)[0] >> 8) * two_pow_minus_24;
}

float counter_rng::normal(std::uint64_t stream, std::uint64_t index) const {
    const philox_block b = bits(stream, index);
    // u1 in (0, 1): never 0, so the log is finite.
    const double u1 = (static_cast<double>(b[0] >> 8) + 0.5) * (1.0 / 16777216.0);
    const double u2 = static_cast<double>(b[1] >> 8) * (1.0 / 16777216.0);
    return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2));
}

std::uint32_t counter_rng::below(std::uint64_t stream, std::uint64_t index, std::uint32_t n) const {
    return static_cast<std::uint32_t>((std::uint64_t{bits(stream, index)[0]} * n) >> 32);
}

void counter_rng::fill_uniform(float* out, std::size_t n, std::uint64_t stream, std::uint64_t first, float lo,
                               float hi) const {
    parallel_for(n, 4096, [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i) out[i] = lo + (hi - lo) * uniform(stream, first + i);
    });
}

void counter_rng::fill_normal(float* out, std::size_t n, std::uint64_t stream, std::uint64_t first, float mean,
                              float stddev) const {
    parallel_for(n, 4096, [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i) out[i] = mean + stddev * normal(stream, first + i);
    });
}

}  // namespace wtasim
