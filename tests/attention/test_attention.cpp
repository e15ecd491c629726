// Attention kinds (docs/model.md §3) on hand-built spikes: the WTA tie rule, all-zero queries, padding, causal
// masking, k = 1 / 2 / 4; operation counts against closed-form formulas; SSA and softmax backward
// against finite differences. Backends against the reference: tests/backends/.
#include <doctest/doctest.h>

#include <cmath>

#include "common/finite_difference.hpp"
#include "core/error.hpp"
#include "helpers.hpp"

using namespace wtasim;
using test::dims;

namespace {
// One step, one sequence, one head of width 2: the tie case. Query 1 is (1,1); keys 0, 2, 3 are (1,1)
// (score 2), key 1 is (1,0) (score 1). Query 0 is all zero; query 2 = (0,1), query 3 = (1,0).
// V_0 = (1,0), V_1 = (0,1), V_2 = (1,1), V_3 = (0,0).
struct tie_case {
    std::vector<float> q{0, 0, 1, 1, 0, 1, 1, 0};
    std::vector<float> k{1, 1, 1, 0, 1, 1, 1, 1};
    std::vector<float> v{1, 0, 0, 1, 1, 1, 0, 0};
    attention_dims d = dims(1, 1, 4, 1, 2);
};

std::vector<std::int32_t> run_wta(const tie_case& c, int k, bool causal, std::vector<float>& o,
                                  const std::vector<std::uint8_t>* mask = nullptr) {
    attention_dims d = c.d;
    if (mask) d.token_mask = mask->data();
    std::vector<std::int32_t> w(4 * static_cast<std::size_t>(k), -2);
    o.assign(8, -1.0f);
    attention_forward(o.data(), w.data(), c.q.data(), c.k.data(), c.v.data(), d, test::wta(k, causal));
    return w;
}
}  // namespace

TEST_CASE("attention: WTA ties go to the nearer key, then the earlier one") {
    tie_case c;
    std::vector<float> o;
    // Query 1: scores (2, 1, 2, 2); keys 0 and 2 are both at distance 1, key 0 is earlier.
    auto w = run_wta(c, 1, false, o);
    CHECK(w[1] == 0);
    CHECK(o[2] == 1.0f);  // V_0 = (1, 0)
    CHECK(o[3] == 0.0f);
    w = run_wta(c, 2, false, o);
    CHECK(w[2] == 0);
    CHECK(w[3] == 2);
    CHECK(o[2] == 1.0f);  // (V_0 + V_2) / 2 = ((1,0) + (1,1)) / 2
    CHECK(o[3] == 0.5f);
    w = run_wta(c, 4, false, o);  // all four keys have positive scores: order 0, 2, 3, then 1 (score 1)
    CHECK(std::vector<std::int32_t>(w.begin() + 4, w.begin() + 8) == std::vector<std::int32_t>{0, 2, 3, 1});
    // Query 3 = (1, 0): scores (1, 1, 1, 1): nearest is itself (distance 0), then key 2.
    w = run_wta(c, 2, false, o);
    CHECK(w[6] == 3);
    CHECK(w[7] == 2);
}

TEST_CASE("attention: an all-zero query has no winner and outputs zero") {
    tie_case c;
    std::vector<float> o;
    for (int k : {1, 4}) {
        auto w = run_wta(c, k, false, o);
        for (int r = 0; r < k; ++r) CHECK(w[static_cast<std::size_t>(r)] == -1);
        CHECK(o[0] == 0.0f);
        CHECK(o[1] == 0.0f);
    }
}

TEST_CASE("attention: causal WTA only sees keys at or before the query; padding keys never win") {
    tie_case c;
    std::vector<float> o;
    auto w = run_wta(c, 1, true, o);
    CHECK(w[1] == 0);  // query 1 sees keys 0 (score 2) and 1 (score 1)
    CHECK(w[2] == 2);  // query 2 = (0,1): keys 0 and 2 score 1; key 2 is itself (distance 0)
    w = run_wta(c, 4, true, o);
    CHECK(std::vector<std::int32_t>(w.begin() + 4, w.begin() + 8) == std::vector<std::int32_t>{0, 1, -1, -1});
    const std::vector<std::uint8_t> mask{1, 1, 0, 1};  // key 2 is padding
    w = run_wta(c, 2, false, o, &mask);
    CHECK(w[2] == 0);
    CHECK(w[3] == 3);  // key 2 would have beaten key 3 on distance
}

TEST_CASE("attention: outputs at position i do not depend on anything after i when causal") {
    const std::size_t T = 2, B = 2, N = 9, H = 2, dh = 5, n = T * B * N * H * dh;
    const auto d = dims(T, B, N, H, dh);
    for (attention_config cfg : {test::wta(1, true), test::wta(4, true), test::kind(attention_kind::ssa, true),
                                 test::kind(attention_kind::softmax, true)}) {
        auto q = test::random_spikes(n, 0.4f, 1, 0), k = test::random_spikes(n, 0.4f, 1, 1),
             v = test::random_spikes(n, 0.4f, 1, 2);
        std::vector<float> o1(n), o2(n);
        std::vector<std::int32_t> w(T * B * H * N * 4);
        cpu::attention_forward(o1.data(), w.data(), q.data(), k.data(), v.data(), d, cfg);
        const std::size_t cut = 5;  // change every token after position 5 in every step and sequence
        for (std::size_t t = 0; t < T; ++t)
            for (std::size_t b = 0; b < B; ++b)
                for (std::size_t i = cut + 1; i < N; ++i)
                    for (std::size_t c = 0; c < H * dh; ++c) {
                        const std::size_t at = ((t * B + b) * N + i) * H * dh + c;
                        q[at] = 1.0f - q[at];
                        k[at] = 1.0f - k[at];
                        v[at] = 1.0f - v[at];
                    }
        cpu::attention_forward(o2.data(), w.data(), q.data(), k.data(), v.data(), d, cfg);
        std::size_t changed_before = 0, changed_after = 0;
        for (std::size_t t = 0; t < T; ++t)
            for (std::size_t b = 0; b < B; ++b)
                for (std::size_t i = 0; i < N; ++i)
                    for (std::size_t c = 0; c < H * dh; ++c) {
                        const std::size_t at = ((t * B + b) * N + i) * H * dh + c;
                        (i <= cut ? changed_before : changed_after) += o1[at] != o2[at] ? 1 : 0;
                    }
        CHECK(changed_before == 0);
        CHECK(changed_after > 0);  // the perturbation was real
    }
}

TEST_CASE("attention: operation counts match the closed-form formulas of docs/model.md §7") {
    // All-ones Q, K, V: every score is d_h, every candidate is a coincidence on every channel.
    const std::size_t T = 2, B = 1, N = 6, H = 2, dh = 3, n = T * B * N * H * dh;
    const std::vector<float> ones(n, 1.0f);
    for (bool causal : {false, true}) {
        const auto d = dims(T, B, N, H, dh);
        const std::uint64_t pairs = causal ? N * (N + 1) / 2 : N * N;  // sum over i of |C_i|
        const std::uint64_t heads_steps = T * B * H;
        for (int k : {1, 4}) {
            std::vector<float> o(n);
            std::vector<std::int32_t> w(T * B * H * N * static_cast<std::size_t>(k));
            attention_forward(o.data(), w.data(), ones.data(), ones.data(), ones.data(), d, test::wta(k, causal));
            const op_counts c =
                attention_counts(ones.data(), ones.data(), ones.data(), w.data(), d, test::wta(k, causal));
            std::uint64_t winners = 0;  // sum over i of min(k, |C_i|)
            for (std::size_t i = 0; i < N; ++i) winners += std::min<std::uint64_t>(k, causal ? i + 1 : N);
            CHECK(c[op_class::ac] == heads_steps * (pairs * dh + winners * dh));
            CHECK(c[op_class::cmp] == heads_steps * k * pairs);
            CHECK(c[op_class::mac] == 0);
        }
        const op_counts ssa = attention_counts(ones.data(), ones.data(), ones.data(), nullptr, d,
                                               test::kind(attention_kind::ssa, causal));
        CHECK(ssa[op_class::ac] == heads_steps * (pairs * dh + pairs * dh));
        CHECK(ssa[op_class::cmp] == 0);
        const op_counts sm = attention_counts(ones.data(), ones.data(), ones.data(), nullptr, d,
                                              test::kind(attention_kind::softmax, causal));
        CHECK(sm[op_class::ac] == heads_steps * (pairs * dh + pairs * dh));
        CHECK(sm[op_class::mac] == heads_steps * pairs);
        CHECK(sm[op_class::exp] == heads_steps * pairs);
        CHECK(sm[op_class::div] == heads_steps * pairs);
    }
    // Padding queries cost nothing; padding keys are no candidates: one real token of three.
    const std::vector<std::uint8_t> mask{1, 0, 0};
    const auto d = dims(1, 1, 3, 1, 2, &mask);
    const std::vector<float> q(6, 1.0f);
    std::vector<float> o(6);
    std::vector<std::int32_t> w(3);
    attention_forward(o.data(), w.data(), q.data(), q.data(), q.data(), d, test::wta(1));
    const op_counts c = attention_counts(q.data(), q.data(), q.data(), w.data(), d, test::wta(1));
    CHECK(c[op_class::ac] == 2 + 2);
    CHECK(c[op_class::cmp] == 1);
}

TEST_CASE("attention: counts on sparse hand-built spikes follow each rule (nnz(V_j), s_ij > 0, #positive)") {
    // One step, one sequence, one head, d_h = 3, N = 3, bidirectional.
    // Q: q0 = (1,0,0), q1 = (0,0,0), q2 = (1,1,0); K: k0 = (1,0,0), k1 = (0,1,0), k2 = (0,0,1);
    // V: v0 = (1,1,0), v1 = (0,0,1), v2 = (0,0,0).
    // Scores: row 0 = (1, 0, 0); row 1 = (0, 0, 0); row 2 = (1, 1, 0).
    const std::vector<float> q{1, 0, 0, 0, 0, 0, 1, 1, 0}, k{1, 0, 0, 0, 1, 0, 0, 0, 1}, v{1, 1, 0, 0, 0, 1, 0, 0, 0};
    const auto d = dims(1, 1, 3, 1, 3);
    const std::uint64_t score_ac = 1 + 0 + 2;  // sum of s_ij
    for (int kw : {1, 2}) {
        std::vector<float> o(9);
        std::vector<std::int32_t> w(3 * static_cast<std::size_t>(kw));
        attention_forward(o.data(), w.data(), q.data(), k.data(), v.data(), d, test::wta(kw));
        // winners: row 0 -> {0}; row 1 -> none; row 2 -> k=1: key 1 (distance 1 beats key 0 at distance 2),
        // k=2: keys 1 then 0 (only two positive scores, whatever k)
        const op_counts c = attention_counts(q.data(), k.data(), v.data(), w.data(), d, test::wta(kw));
        const std::uint64_t gather = kw == 1 ? 2 + 1 : 2 + 1 + 2;  // nnz(v0) = 2, nnz(v1) = 1
        CHECK(c[op_class::ac] == score_ac + gather);
        CHECK(c[op_class::cmp] == static_cast<std::uint64_t>(kw) * 3 * 3);
    }
    // SSA: one AC per (i, j, d) with s_ij > 0 and V_jd = 1: (0,0): nnz(v0) = 2; (2,0): 2; (2,1): 1.
    const op_counts ssa = attention_counts(q.data(), k.data(), v.data(), nullptr, d, test::kind(attention_kind::ssa));
    CHECK(ssa[op_class::ac] == score_ac + 2 + 2 + 1);
    // softmax: every candidate pair (9) gets MAC/EXP/DIV and AV adds nnz(V_j) whatever the score: 3 x (2 + 1 + 0).
    const op_counts sm =
        attention_counts(q.data(), k.data(), v.data(), nullptr, d, test::kind(attention_kind::softmax));
    CHECK(sm[op_class::ac] == score_ac + 3 * 3);
    CHECK(sm[op_class::mac] == 9);
}

TEST_CASE("attention: SSA and softmax backward equal finite differences (real-valued Q, K, V)") {
    // Both are smooth in Q, K, V; the reference kernels take real values (the cpu backend needs spikes).
    const std::size_t T = 1, B = 2, N = 4, H = 2, dh = 3, n = T * B * N * H * dh;
    const std::vector<std::uint8_t> mask{1, 1, 1, 1, 1, 1, 1, 0};
    const auto d = dims(T, B, N, H, dh, &mask);
    std::vector<double> x(3 * n), w(n);
    counter_rng rng(17);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = rng.uniform(0, i);
    for (std::size_t i = 0; i < n; ++i) w[i] = rng.normal(1, i);
    for (attention_config cfg : {test::kind(attention_kind::ssa), test::kind(attention_kind::ssa, true),
                                 test::kind(attention_kind::softmax), test::kind(attention_kind::softmax, true)}) {
        CAPTURE(attention_kind_name(cfg.kind));
        auto loss = [&](const std::vector<double>& xs) {
            std::vector<float> f(xs.begin(), xs.end()), o(n);
            attention_forward(o.data(), nullptr, f.data(), f.data() + n, f.data() + 2 * n, d, cfg);
            double l = 0;
            for (std::size_t i = 0; i < n; ++i) l += o[i] * w[i];
            return l;
        };
        const auto numeric = test::central_difference(x, 1e-2, loss);
        std::vector<float> f(x.begin(), x.end()), d_o(w.begin(), w.end()), g(3 * n);
        attention_backward(g.data(), g.data() + n, g.data() + 2 * n, d_o.data(), f.data(), f.data() + n,
                           f.data() + 2 * n, nullptr, d, cfg);
        double scale = 0;
        for (double v : numeric) scale = std::max(scale, std::abs(v));
        REQUIRE(scale > 0.1);
        for (std::size_t i = 0; i < g.size(); ++i) {
            CAPTURE(i);
            CHECK(std::abs(g[i] - numeric[i]) <= 2e-3 * scale);
        }
    }
}
