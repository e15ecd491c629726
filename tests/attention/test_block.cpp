// The spiking block and the ANN twin block as wholes: thread-count independence, causality of the
// decoder block (evaluation mode: training-mode BN statistics mix positions by design), and the
// operation counts rebuilt from the block's own spike counts by the formulas of docs/model.md §7.
#include <doctest/doctest.h>

#include <cstring>

#include "attention/ann_block.hpp"
#include "attention/block.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "helpers.hpp"

using namespace wtasim;

namespace {
block_config small_config(attention_kind kind, bool causal, neuron_kind neuron = neuron_kind::lif) {
    block_config c;
    c.D = 16;
    c.H = 2;
    c.F = 32;
    c.neuron = neuron;
    c.attn.kind = kind;
    c.attn.causal = causal;
    c.attn.k = kind == attention_kind::wta ? 2 : 1;
    return c;
}

std::vector<float> block_input(std::size_t n, std::uint64_t stream) {
    std::vector<float> x(n);
    counter_rng(21).fill_normal(x.data(), n, stream, 0, 1.0f, 1.0f);
    return x;
}

// Training forward + backward; returns y, dx and every gradient concatenated.
std::vector<float> run_block(spiking_block& blk, const std::vector<float>& x, const seq_shape& s,
                             const std::vector<std::uint8_t>& mask) {
    std::vector<float> y(x.size()), dx(x.size()), dy = block_input(x.size(), 99);
    blk.zero_grad();
    blk.forward(y.data(), x.data(), s, mask, true);
    blk.backward(dx.data(), dy.data());
    std::vector<float> all = y;
    all.insert(all.end(), dx.begin(), dx.end());
    for (auto& p : blk.parameters()) all.insert(all.end(), p.grad->begin(), p.grad->end());
    return all;
}
}  // namespace

TEST_CASE("block: forward and backward are bit-identical for 1 and 2 threads, every kind") {
    const seq_shape s{4, 3, 11};
    std::vector<std::uint8_t> mask(33, 1);
    mask[30] = mask[31] = mask[32] = 0;  // padding: masked BN statistics and masked keys
    const auto x = block_input(s.rows() * 16, 0);
    for (auto [kind, neuron] : {std::pair{attention_kind::wta, neuron_kind::lif},
                                {attention_kind::wta, neuron_kind::nilif},
                                {attention_kind::ssa, neuron_kind::lif},
                                {attention_kind::softmax, neuron_kind::lif}}) {
        CAPTURE(attention_kind_name(kind));
        std::vector<float> one, two;
        {
            thread_limit limit(1);
            spiking_block blk(small_config(kind, kind != attention_kind::ssa, neuron));
            blk.init(counter_rng(5), 0);
            one = run_block(blk, x, s, mask);
        }
        {
            thread_limit limit(2);
            spiking_block blk(small_config(kind, kind != attention_kind::ssa, neuron));
            blk.init(counter_rng(5), 0);
            two = run_block(blk, x, s, mask);
        }
        REQUIRE(one.size() == two.size());
        CHECK(std::memcmp(one.data(), two.data(), one.size() * 4) == 0);
    }
}

TEST_CASE("block: backward after an evaluation forward is refused, not silently wrong") {
    spiking_block blk(small_config(attention_kind::wta, false));
    blk.init(counter_rng(10), 0);
    const seq_shape s{2, 1, 5};
    const auto x = block_input(s.rows() * 16, 5);
    std::vector<float> y(x.size()), dx(x.size());
    blk.forward(y.data(), x.data(), s, {}, true);
    blk.forward(y.data(), x.data(), s, {}, false);
    CHECK_THROWS_AS(blk.backward(dx.data(), y.data()), internal_error);
}

TEST_CASE("block: a causal block's output at position i is unchanged by any change after i (eval mode)") {
    const seq_shape s{4, 2, 9};
    const std::size_t D = 16, cut = 4;
    for (attention_kind kind : {attention_kind::wta, attention_kind::ssa, attention_kind::softmax}) {
        CAPTURE(attention_kind_name(kind));
        spiking_block blk(small_config(kind, true));
        blk.init(counter_rng(6), 0);
        auto x = block_input(s.rows() * D, 1);
        std::vector<float> y1(x.size()), y2(x.size());
        blk.forward(y1.data(), x.data(), s, {}, false);
        for (std::size_t t = 0; t < s.T; ++t)
            for (std::size_t b = 0; b < s.B; ++b)
                for (std::size_t n = cut + 1; n < s.N; ++n)
                    for (std::size_t c = 0; c < D; ++c) x[s.row(t, b, n) * D + c] += 3.0f;
        blk.forward(y2.data(), x.data(), s, {}, false);
        std::size_t before = 0, after = 0;
        for (std::size_t t = 0; t < s.T; ++t)
            for (std::size_t b = 0; b < s.B; ++b)
                for (std::size_t n = 0; n < s.N; ++n)
                    for (std::size_t c = 0; c < D; ++c) {
                        const std::size_t at = s.row(t, b, n) * D + c;
                        (n <= cut ? before : after) += y1[at] != y2[at] ? 1 : 0;
                    }
        CHECK(before == 0);
        CHECK(after > 0);
    }
}

TEST_CASE("block: operation counts equal docs/model.md §7 rebuilt from the block's spike counts") {
    const seq_shape s{3, 2, 7};
    std::vector<std::uint8_t> mask(14, 1);
    mask[12] = mask[13] = 0;  // two padding tokens in the second sequence
    const std::uint64_t real_rows = s.T * 12, D = 16, F = 32;
    for (auto neuron : {neuron_kind::lif, neuron_kind::nilif}) {
        for (attention_kind kind : {attention_kind::wta, attention_kind::ssa, attention_kind::softmax}) {
            CAPTURE(attention_kind_name(kind));
            block_config cfg = small_config(kind, false, neuron);
            cfg.attn.v_th_attn = 0.125f;  // at this small size SSA / softmax outputs stay below 0.5
            spiking_block blk(cfg);
            blk.init(counter_rng(7), 0);
            for (auto& p : blk.parameters())  // BN shifts that make every layer fire
                if (p.name.ends_with(".bn.bias")) p.value->fill(1.0f);
            const auto x = block_input(s.rows() * D, 2);
            std::vector<float> y(x.size());
            blk.forward(y.data(), x.data(), s, mask, true);
            const block_spikes sp = blk.spikes();
            const op_counts c = blk.counts(), att = blk.attention_counts();
            CHECK(sp.s1 > 0);
            CHECK(sp.q > 0);
            CHECK(sp.z > 0);
            CHECK(sp.h > 0);
            CHECK(att[op_class::ac] > 0);
            // NU: six D-wide layers (SN, Q, K, V, SN_a, SN) and SN_h (F-wide) per real row
            CHECK(c[op_class::nu] == real_rows * (6 * D + F));
            // q/k/v read S1 (3 x events x D), o reads Z, fc1 reads S2 (x F), fc2 reads H (x D); one bias add per
            // real row per output of each linear; two residual adds of D per real row.
            const std::uint64_t linear_ac =
                3 * sp.s1 * D + sp.z * D + sp.s2 * F + sp.h * D + real_rows * (5 * D + F) + 2 * real_rows * D;
            CHECK(c[op_class::ac] == linear_ac + att[op_class::ac]);
            for (op_class cls : {op_class::cmp, op_class::mac, op_class::exp, op_class::div}) CHECK(c[cls] == att[cls]);
        }
    }
}

TEST_CASE("block: the ANN twin's counts follow docs/model.md §7 and it is bit-identical for 1 and 2 threads") {
    ann_block_config cfg{16, 2, 32, true};
    const std::size_t B = 2, N = 5;
    const std::vector<std::uint8_t> mask{1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
    std::vector<float> x = block_input(B * N * 16, 3), dy = block_input(B * N * 16, 4);
    std::vector<std::vector<float>> runs;
    for (std::size_t threads : {1u, 2u}) {
        thread_limit limit(threads);
        ann_block blk(cfg);
        blk.init(counter_rng(8), 0);
        blk.zero_grad();
        std::vector<float> y(x.size()), dx(x.size());
        blk.forward(y.data(), x.data(), B, N, mask);
        blk.backward(dx.data(), dy.data());
        y.insert(y.end(), dx.begin(), dx.end());
        for (auto& p : blk.parameters()) y.insert(y.end(), p.grad->begin(), p.grad->end());
        runs.push_back(y);
        const op_counts c = blk.counts();
        const std::uint64_t tokens = 8, D = 16, F = 32, pairs = 15 + 6;  // causal: 1+..+5, then 1+2+3
        CHECK(c[op_class::mac] == tokens * (4 * D * D + 2 * D * F) + 2 * pairs * D + tokens * 8 * D + tokens * 4 * F);
        CHECK(c[op_class::exp] == pairs * 2 + tokens * F);
        CHECK(c[op_class::div] == pairs * 2 + 2 * tokens);
        CHECK(c[op_class::ac] == tokens * (4 * D + F + D) + 2 * tokens * D);
    }
    CHECK(std::memcmp(runs[0].data(), runs[1].data(), runs[0].size() * 4) == 0);
}
