// Recency in attention (docs/model.md §10): the token shift of K and V spikes. Token n offers, per channel,
// the union of its own spikes and its predecessor's (RWKV-style token shift, on spikes):
//   K'[t, b, n] = K[n] + K[n-1] - K[n] K[n-1]    (= max(K[n], K[n-1]) on spikes in {0, 1})
// for n >= 1 with both n and n-1 real tokens; otherwise K'[n] = K[n]. The same for V. It stays spike-driven:
// at inference a key event of token n-1 is also delivered to token n's slot, with no arithmetic.
// Backward (the derivative of the product form, exact on {0, 1} inputs):
//   dK[n] = dK'[n] (1 - K[n-1]) [n shifted]  +  dK'[n] [n not shifted]  +  dK'[n+1] (1 - K[n+1]) [n+1 shifted]
#pragma once

#include <cstddef>
#include <cstdint>

#include "attention/shape.hpp"

namespace wtasim {

// y, x [T, B, N, C]; token_mask [B, N] or null (all real).
void token_shift_forward(float* y, const float* x, const seq_shape& s, std::size_t C, const std::uint8_t* token_mask);
// dx from dy (both [T, B, N, C]) and the forward's input x.
void token_shift_backward(float* dx, const float* dy, const float* x, const seq_shape& s, std::size_t C,
                          const std::uint8_t* token_mask);
// Whether token n of sequence b takes its predecessor's spikes.
inline bool token_shifted(std::size_t b, std::size_t n, std::size_t N, const std::uint8_t* token_mask) {
    return n >= 1 && (!token_mask || (token_mask[b * N + n] && token_mask[b * N + n - 1]));
}

}  // namespace wtasim
