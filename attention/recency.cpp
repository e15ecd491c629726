// The token shift of K and V spikes (attention/recency.hpp).
#include "attention/recency.hpp"

namespace wtasim {

void token_shift_forward(float* y, const float* x, const seq_shape& s, std::size_t C, const std::uint8_t* token_mask) {
    for (std::size_t t = 0; t < s.T; ++t)
        for (std::size_t b = 0; b < s.B; ++b)
            for (std::size_t n = 0; n < s.N; ++n) {
                const float* xn = x + s.row(t, b, n) * C;
                float* yn = y + s.row(t, b, n) * C;
                if (!token_shifted(b, n, s.N, token_mask)) {
                    for (std::size_t c = 0; c < C; ++c) yn[c] = xn[c];
                    continue;
                }
                const float* xp = xn - C;
                for (std::size_t c = 0; c < C; ++c) yn[c] = xn[c] + xp[c] - xn[c] * xp[c];
            }
}

void token_shift_backward(float* dx, const float* dy, const float* x, const seq_shape& s, std::size_t C,
                          const std::uint8_t* token_mask) {
    for (std::size_t t = 0; t < s.T; ++t)
        for (std::size_t b = 0; b < s.B; ++b)
            for (std::size_t n = 0; n < s.N; ++n) {
                const std::size_t r = s.row(t, b, n) * C;
                const bool self = token_shifted(b, n, s.N, token_mask);
                const bool next = n + 1 < s.N && token_shifted(b, n + 1, s.N, token_mask);
                for (std::size_t c = 0; c < C; ++c) {
                    float g = self ? dy[r + c] * (1.0f - x[r - C + c]) : dy[r + c];
                    if (next) g += dy[r + C + c] * (1.0f - x[r + C + c]);
                    dx[r + c] = g;
                }
            }
}

}  // namespace wtasim
