// The K/V token shift (attention/recency.hpp): on spikes it is the union of a token's and its predecessor's
// spikes within the same sequence (never across a padding token or a sequence boundary); its backward is the
// derivative of the product form, checked against central finite differences on real-valued inputs.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "attention/recency.hpp"
#include "common/finite_difference.hpp"
#include "core/rng.hpp"

using namespace wtasim;

TEST_CASE("recency: the token shift is the union with the predecessor's spikes, inside real tokens only") {
    const seq_shape s{2, 2, 4};  // T 2, B 2, N 4
    const std::size_t C = 3;
    const std::vector<std::uint8_t> mask{1, 1, 1, 1, 1, 1, 0, 0};  // sequence 1 has two real tokens
    std::vector<float> x(s.rows() * C), y(x.size());
    const counter_rng rng(3);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = rng.below(5, i, 2) ? 1.0f : 0.0f;
    token_shift_forward(y.data(), x.data(), s, C, mask.data());
    for (std::size_t t = 0; t < s.T; ++t)
        for (std::size_t b = 0; b < s.B; ++b)
            for (std::size_t n = 0; n < s.N; ++n)
                for (std::size_t c = 0; c < C; ++c) {
                    const float own = x[s.row(t, b, n) * C + c];
                    const bool prev_real = n > 0 && mask[b * s.N + n] && mask[b * s.N + n - 1];
                    const float want = prev_real ? std::max(own, x[s.row(t, b, n - 1) * C + c]) : own;
                    CHECK(y[s.row(t, b, n) * C + c] == want);
                }
    // token 0 of sequence 1 never takes the last token of sequence 0
    CHECK_FALSE(token_shifted(1, 0, s.N, mask.data()));
    CHECK_FALSE(token_shifted(1, 2, s.N, mask.data()));
    CHECK(token_shifted(1, 1, s.N, mask.data()));
}

TEST_CASE("recency: token shift backward equals finite differences") {
    const seq_shape s{2, 2, 5};
    const std::size_t C = 2, n = s.rows() * C;
    const std::vector<std::uint8_t> mask{1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
    std::vector<float> x(n), w(n), dx(n);
    const counter_rng rng(8);
    rng.fill_uniform(x.data(), n, 0, 0, -1.0f, 2.0f);
    rng.fill_uniform(w.data(), n, 1, 0, -1.0f, 1.0f);
    // loss = sum w * shift(x): dy = w
    token_shift_backward(dx.data(), w.data(), x.data(), s, C, mask.data());
    const std::vector<double> x0(x.begin(), x.end());
    const auto fd = test::central_difference(x0, 1e-3, [&](const std::vector<double>& xd) {
        std::vector<float> xf(xd.begin(), xd.end()), y(n);
        token_shift_forward(y.data(), xf.data(), s, C, mask.data());
        double loss = 0;
        for (std::size_t i = 0; i < n; ++i) loss += double(w[i]) * double(y[i]);
        return loss;
    });
    for (std::size_t i = 0; i < n; ++i) {
        CAPTURE(i);
        CHECK(dx[i] == doctest::Approx(fd[i]).epsilon(1e-3).scale(1.0));
    }
}
