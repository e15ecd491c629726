// Shared helpers of the attention tests: spike tensors, head-addressed writes, dims.
#pragma once

#include <cstdint>
#include <vector>

#include "attention/attention.hpp"
#include "core/rng.hpp"

namespace wtasim::test {

// Random 0/1 spikes with probability p, deterministic in (seed, stream).
inline std::vector<float> random_spikes(std::size_t n, float p, std::uint64_t seed, std::uint64_t stream) {
    std::vector<float> v(n);
    counter_rng rng(seed);
    for (std::size_t i = 0; i < n; ++i) v[i] = rng.uniform(stream, i) < p ? 1.0f : 0.0f;
    return v;
}

inline attention_dims dims(std::size_t T, std::size_t B, std::size_t N, std::size_t H, std::size_t dh,
                           const std::vector<std::uint8_t>* mask = nullptr) {
    return attention_dims{seq_shape{T, B, N}, H, dh, mask ? mask->data() : nullptr};
}

inline attention_config wta(int k, bool causal = false) {
    attention_config c;
    c.kind = attention_kind::wta;
    c.k = k;
    c.causal = causal;
    return c;
}

inline attention_config kind(attention_kind kd, bool causal = false) {
    attention_config c;
    c.kind = kd;
    c.causal = causal;
    return c;
}

}  // namespace wtasim::test
