// The K/V token shift (attention/recency.hpp): on spikes it is the union of a token's and its predecessor's
// spikes within the same sequence (never across a padding token or a sequence boundary); its backward is the
// derivative of the product form, checked against central finite differences on real-valued inputs.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "attention/attention.hpp"
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

TEST_CASE("recency: the bias reorders winners by distance; fill serves a query without coincidences") {
    // One head, N 4, bidirectional, query 3 against keys 0..3 (dh 4). Raw scores: key 0 -> 2, key 2 -> 1,
    // keys 1 and 3 -> 0. With b = [0, 2, 1] the biased scores are 2 + 0 (d 3), 0 + 1 (d 2), 1 + 2 (d 1), 0 + 0.
    const seq_shape s{1, 1, 4};
    const std::size_t dh = 4;
    std::vector<float> q(s.rows() * dh, 0.0f), k(q.size(), 0.0f), v(q.size(), 0.0f), o(q.size());
    q[3 * dh + 0] = q[3 * dh + 1] = 1.0f;                      // query 3 spikes on channels 0, 1
    k[0 * dh + 0] = k[0 * dh + 1] = 1.0f;                      // key 0: score 2
    k[2 * dh + 1] = 1.0f;                                      // key 2: score 1
    for (std::size_t n = 0; n < 4; ++n) v[n * dh + n] = 1.0f;  // V_j marks its own channel
    const attention_dims d{s, 1, dh, nullptr};
    attention_config c;
    c.k = 1;
    std::vector<std::int32_t> w(4 * 1, -7);
    attention_forward(o.data(), w.data(), q.data(), k.data(), v.data(), d, c);
    CHECK(w[3] == 0);  // no bias: the highest raw score
    c.bias = {0.0f, 2.0f, 1.0f};
    c.bias_len = 3;
    CHECK_THROWS(c.validate());  // must be non-increasing
    c.bias = {2.0f, 2.0f, 1.0f};
    c.validate();
    attention_forward(o.data(), w.data(), q.data(), k.data(), v.data(), d, c);
    CHECK(w[3] == 2);  // 1 + 2 (distance 1) beats 2 + 0 (distance 3)
    // query 1 has no coincidence at all: no winner without fill; with fill the bonus alone picks the nearest
    CHECK(w[1] == -1);
    CHECK(no_winner_fraction(w.data(), 4, 1) == doctest::Approx(0.75));  // only query 3 has a coincidence
    c.fill = true;
    attention_forward(o.data(), w.data(), q.data(), k.data(), v.data(), d, c);
    CHECK(w[1] == 1);  // itself (distance 0; ties at distance 1 would go to the smaller distance first)
    CHECK(o[1 * dh + 1] == 1.0f);
    CHECK(no_winner_fraction(w.data(), 4, 1) == 0.0);
    // the bonus is counted: one AC per (query, candidate) it applies to
    const op_counts with = attention_counts(q.data(), k.data(), v.data(), w.data(), d, c);
    attention_config plain;
    std::vector<std::int32_t> w0(4, -1);
    attention_forward(o.data(), w0.data(), q.data(), k.data(), v.data(), d, plain);
    const op_counts without = attention_counts(q.data(), k.data(), v.data(), w0.data(), d, plain);
    std::uint64_t bonus = 0;  // distances 0..2 between 4 tokens: 4 + 6 + 4
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t j = 0; j < 4; ++j) bonus += (i > j ? i - j : j - i) < 3 ? 1 : 0;
    std::uint64_t gathered = 0;
    for (std::size_t i = 0; i < 4; ++i) gathered += w[i] >= 0 ? 1 : 0;  // each V_j has one spike
    std::uint64_t gathered0 = 0;
    for (std::size_t i = 0; i < 4; ++i) gathered0 += w0[i] >= 0 ? 1 : 0;
    CHECK(with[op_class::ac] == without[op_class::ac] + bonus + gathered - gathered0);
    CHECK(with[op_class::cmp] == without[op_class::cmp]);
}
