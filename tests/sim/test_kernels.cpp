// The simulator's kernel bodies (sim/kernels.hpp) through the emulated launcher (core/launch.hpp), against the
// CPU engine's own steps (sim/detail.hpp): neuron populations and spiking linears, bit for bit, with the event
// counts. This is how the CUDA kernels' logic is tested on machines without a GPU; test_kernels_cuda.cpp runs
// the same bodies on a GPU (label `cuda`).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "attention/head_kernels.hpp"
#include "core/launch.hpp"
#include "core/rng.hpp"
#include "kernel_checks.hpp"
#include "sim/detail.hpp"
#include "sim/engine.hpp"
#include "sim/kernel_engine.hpp"
#include "sim/kernel_stream.hpp"
#include "sim/kernels.hpp"
#include "sim/stream.hpp"

using namespace wtasim;
using namespace wtasim::sim_detail;

namespace {

std::vector<float> currents(std::size_t n, std::uint64_t stream, float mean, float spread) {
    std::vector<float> x(n);
    counter_rng(5).fill_normal(x.data(), n, stream, 0, mean, spread);
    return x;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// T steps of a population through the engine and through the body, on the same currents.
void check_population(neuron_kind kind, const lif_params& lif, const nilif_params& nilif, std::vector<float> tau_c,
                      std::vector<float> v_th_c) {
    const std::size_t N = 7, C = 37, T = 4;
    layer_stats stats{"pop", {}, 0, 0, 0};
    population pop{kind, lif, nilif, C, {}, &stats};
    pop.tau_c = tau_c;
    pop.v_th_c = v_th_c;
    pop.reset(N);
    std::vector<float> state = pop.state, s_engine(N * C), s_body(N * C);
    std::vector<std::uint64_t> counts(N), active(N);
    std::uint64_t body_events = 0, body_active = 0;
    events ev;
    for (std::size_t t = 0; t < T; ++t) {
        const auto x = currents(N * C, t, kind == neuron_kind::nilif ? 1.5f : 0.6f, 1.0f);
        pop.step(s_engine.data(), ev, x.data(), N);
        if (kind == neuron_kind::nilif) {
            emulate_launch(
                N * C, sim_kernels::nilif_population{state.data(), s_body.data(), x.data(), nilif_coeffs_of(nilif)});
        } else {
            emulate_launch(N * C, sim_kernels::lif_population{state.data(), s_body.data(), x.data(), lif_coeffs_of(lif),
                                                              tau_c.empty() ? nullptr : tau_c.data(),
                                                              v_th_c.empty() ? nullptr : v_th_c.data(), C});
        }
        CHECK(same_bits(s_engine, s_body));
        CHECK(same_bits(pop.state, state));
        const float levels = kind == neuron_kind::nilif ? static_cast<float>(nilif.levels) : 1.0f;
        emulate_launch(N, sim_kernels::row_tally{counts.data(), active.data(), s_body.data(), C, levels});
        for (std::size_t n = 0; n < N; ++n) body_events += counts[n], body_active += active[n];
    }
    CHECK(body_events == stats.events);
    CHECK(body_active == stats.active);
    CHECK(stats.events > 0);  // the currents make the population fire
}

}  // namespace

TEST_CASE("kernels: LIF and NI-LIF population bodies equal the engine's step bit for bit") {
    lif_params soft;
    soft.tau = 2.0f;
    soft.v_th = 1.0f;
    lif_params hard = soft;
    hard.reset = reset_mode::hard;
    hard.v_reset = -0.1f;
    lif_params input_decay = soft;
    input_decay.decay_input = false;
    nilif_params ni;
    ni.levels = 4;
    ni.beta = 0.5f;
    SUBCASE("LIF, soft reset") {
        check_population(neuron_kind::lif, soft, ni, {}, {});
    }
    SUBCASE("LIF, hard reset") {
        check_population(neuron_kind::lif, hard, ni, {}, {});
    }
    SUBCASE("LIF, no input decay") {
        check_population(neuron_kind::lif, input_decay, ni, {}, {});
    }
    SUBCASE("LIF, learned constants per channel") {
        std::vector<float> tau(37), v_th(37);
        for (std::size_t c = 0; c < 37; ++c) tau[c] = 1.5f + 0.05f * float(c), v_th[c] = 0.7f + 0.02f * float(c);
        check_population(neuron_kind::lif, soft, ni, tau, v_th);
    }
    SUBCASE("NI-LIF") {
        check_population(neuron_kind::nilif, soft, ni, {}, {});
    }
}

TEST_CASE("kernels: the spiking-linear body equals the engine's event path bit for bit") {
    for (const int levels : {1, 4}) {
        CAPTURE(levels);
        const std::size_t N = 9, in = 53, out = 29;
        folded_linear f;
        f.in = in;
        f.out = out;
        f.wt.resize(in * out);
        f.bias.resize(out);
        counter_rng(11).fill_normal(f.wt.data(), f.wt.size(), 0, 0, 0.0f, 0.3f);
        counter_rng(11).fill_normal(f.bias.data(), out, 1, 0, 0.0f, 0.1f);
        // spikes at about 20 %, of level 1 .. levels (value m / levels)
        std::vector<float> s(N * in, 0.0f);
        counter_rng rng(12);
        events ev;
        for (std::size_t n = 0; n < N; ++n)
            for (std::size_t j = 0; j < in; ++j) {
                if (rng.uniform(0, n * in + j) >= 0.2f) continue;
                const int m = 1 + int(rng.uniform(1, n * in + j) * float(levels)) % levels;
                s[n * in + j] = float(m) / float(levels);
                ev.token.push_back(std::uint32_t(n));
                ev.neuron.push_back(std::uint32_t(j));
                ev.value.push_back(s[n * in + j]);
            }
        layer_stats st{"linear", {}, 0, 0, 0};
        std::vector<float> y_engine(N * out), y_body(N * out);
        linear_from_events(y_engine.data(), ev, f, N, levels, st);
        emulate_launch(N * out,
                       sim_kernels::spike_linear{y_body.data(), s.data(), f.wt.data(), f.bias.data(), in, out});
        CHECK(same_bits(y_engine, y_body));
        std::vector<std::uint64_t> counts(N);
        emulate_launch(N, sim_kernels::row_tally{counts.data(), nullptr, s.data(), in, float(levels)});
        std::uint64_t events = 0;
        for (auto c : counts) events += c;
        CHECK(st.ops[op_class::ac] == (events + N) * out);  // a row per event (level), a bias per token
    }
}

namespace {
struct score_matrix {  // s_ij of one head, read from [N, N]
    const float* s;
    std::size_t N;
    float operator()(std::size_t i, std::size_t j) const { return s[i * N + j]; }
};
}  // namespace

TEST_CASE("kernels: coincidence and attention bodies equal the attention kernel's scores, winners, output and counts") {
    const std::size_t N = 23, H = 3, dh = 8, D = H * dh;
    std::vector<float> q(N * D), kk(N * D), v(N * D);
    counter_rng rng(21);
    for (std::size_t i = 0; i < N * D; ++i) {
        q[i] = rng.uniform(0, i) < 0.3f ? 1.0f : 0.0f;
        kk[i] = rng.uniform(1, i) < 0.3f ? 1.0f : 0.0f;
        v[i] = rng.uniform(2, i) < 0.4f ? 1.0f : 0.0f;
    }
    const attention_kind kinds[] = {attention_kind::wta, attention_kind::ssa, attention_kind::softmax};
    for (const attention_kind kind : kinds)
        for (const bool causal : {true, false})
            for (const int k : {1, 2, 3})
                for (const int variant : {0, 1, 2}) {  // plain; recency bonus; bonus with fill
                    if (kind != attention_kind::wta && (k > 1 || variant == 2)) continue;
                    CAPTURE(int(kind));
                    CAPTURE(causal);
                    CAPTURE(k);
                    CAPTURE(variant);
                    attention_config cfg;
                    cfg.kind = kind;
                    cfg.causal = causal;
                    cfg.k = k;
                    cfg.ssa_scale = 0.125f;
                    if (variant > 0) {
                        cfg.bias_len = 3;
                        cfg.bias[0] = 2.0f, cfg.bias[1] = 1.0f, cfg.bias[2] = 1.0f;
                    }
                    cfg.fill = variant == 2;
                    // the reference: exact dot-product scores, then the attention kernel per head and its counts
                    std::vector<float> scores_ref(H * N * N, 0.0f), o_ref(N * D, 0.0f), o_body(N * D, -7.0f);
                    for (std::size_t h = 0; h < H; ++h)
                        for (std::size_t i = 0; i < N; ++i)
                            for (std::size_t j = 0; j < N; ++j) {
                                if (causal && j > i) continue;
                                float s = 0.0f;
                                for (std::size_t c = h * dh; c < (h + 1) * dh; ++c) s += q[i * D + c] * kk[j * D + c];
                                scores_ref[(h * N + i) * N + j] = s;
                            }
                    const bool wta = kind == attention_kind::wta;
                    std::vector<std::int32_t> win_ref(wta ? H * N * std::size_t(k) : 0, -1),
                        win_body(wta ? H * N * std::size_t(k) : 0, -9);
                    const attention_dims dims{seq_shape{1, 1, N}, H, dh, nullptr};
                    for (std::size_t h = 0; h < H; ++h)
                        detail::head_forward(o_ref.data(), wta ? win_ref.data() : nullptr, v.data(),
                                             detail::head_view{&dims, 0, 0, h}, cfg,
                                             score_matrix{scores_ref.data() + h * N * N, N});
                    const op_counts counted =
                        attention_counts(q.data(), kk.data(), v.data(), wta ? win_ref.data() : nullptr, dims, cfg);
                    const sim_kernels::query_rows rows{1, N, N, 0, H, dh};
                    std::vector<float> scores_body(H * N * N, -1.0f);
                    emulate_launch(H * N * N,
                                   sim_kernels::coincidences{scores_body.data(), q.data(), kk.data(), rows, causal});
                    CHECK(same_bits(scores_ref, scores_body));
                    std::vector<std::uint64_t> tally(H * N, 99);
                    sim_kernels::attend att{o_body.data(), wta ? win_body.data() : nullptr,
                                            tally.data(),  scores_body.data(),
                                            v.data(),      rows};
                    att.kind = wta                           ? sim_kernels::attend::wta
                               : kind == attention_kind::ssa ? sim_kernels::attend::ssa
                                                             : sim_kernels::attend::softmax;
                    att.k = k;
                    att.causal = causal;
                    att.fill = cfg.fill;
                    att.ssa_scale = cfg.ssa_scale;
                    for (std::size_t d = 0; d < cfg.bias_len; ++d) att.bias[d] = cfg.bias[d];
                    att.bias_len = cfg.bias_len;
                    emulate_launch(H * N, att);
                    CHECK(win_ref == win_body);
                    CHECK(same_bits(o_ref, o_body));
                    // the data-dependent AC per query; what sizes decide (bonus ACs, comparisons, softmax's
                    // MAC/EXP/DIV) is the engine's to add
                    std::uint64_t ac = 0;
                    for (auto t : tally) ac += t;
                    std::uint64_t bonus = 0;
                    for (std::size_t i = 0; i < N; ++i)
                        for (std::size_t j = 0; j < (causal ? i + 1 : N); ++j)
                            bonus += cfg.bias_at(j > i ? j - i : i - j) > 0.0f ? 1 : 0;
                    CHECK(ac + H * bonus == counted[op_class::ac]);
                    std::size_t nonzero = 0;  // the case has an output to check
                    for (float x : o_ref) nonzero += x != 0.0f ? 1 : 0;
                    CHECK(nonzero > 0);
                }
}

TEST_CASE("kernels: the engine's step loop on kernel bodies equals the CPU engine on whole models") {
    const std::string base =
        R"("vocab": 40, "d_model": 16, "heads": 2, "d_ff": 32, "layers": 2, "T": 3, "max_len": 12)";
    const char* models[] = {
        R"("causal": true, "neuron": "lif", "attention": {"kind": "wta", "k": 1})",
        R"("causal": false, "neuron": "nilif", "attention": {"kind": "wta", "k": 2, "v_th_attn": 0.25})",
        R"("causal": true, "neuron": "lif", "attention": {"kind": "wta", "k": 1, "recency": "shift"})",
        R"("causal": true, "neuron": "lif", "attention": {"kind": "wta", "k": 2, "recency": "bias", "bias": [3, 2, 1],
           "fill": true})",
        R"("causal": false, "neuron": "nilif", "attention": {"kind": "wta", "k": 1, "v_th_attn": 0.25,
           "recency": "shift+bias", "bias": [1], "fill": true})",
        R"("causal": true, "neuron": "lif", "attention": {"kind": "wta", "v_th_qk": 0.5})",
        R"("causal": true, "neuron": "lif", "readout": "levels", "attention": {"kind": "wta"})",
        R"("causal": true, "neuron": "lif", "readout": "residual", "attention": {"kind": "wta", "recency": "shift"})",
        R"("causal": true, "neuron": "lif", "attention": {"kind": "wta"},
           "lif": {"learn_tau": "channel", "learn_v_th": "channel"})",
        R"("causal": true, "neuron": "lif", "attention": {"kind": "ssa"})",
        R"("causal": false, "neuron": "nilif", "attention": {"kind": "softmax"})",
        R"("causal": false, "neuron": "lif", "readout": "residual", "attention": {"kind": "ssa", "recency": "shift"})",
        R"("causal": true, "neuron": "lif", "attention": {"kind": "wta"},
           "task": {"name": "cls", "readout": "sequence", "outputs": 3})",
        R"("causal": false, "neuron": "nilif", "attention": {"kind": "wta", "k": 2},
           "task": {"name": "tag", "readout": "token", "outputs": 5})",
    };
    host_executor ex;
    test::check_models_on(ex, base, models, 11, 1);
}

TEST_CASE("kernels: streaming on kernel bodies equals the CPU stream and the full sequence, token by token") {
    const std::string dims =
        R"("vocab": 40, "d_model": 16, "heads": 2, "d_ff": 32, "layers": 2, "T": 3, "max_len": 12)";
    const std::string base = dims + R"(, "causal": true)";
    const char* models[] = {
        R"("neuron": "lif", "attention": {"kind": "wta", "k": 2})",
        R"("neuron": "nilif", "attention": {"kind": "wta", "k": 1, "recency": "shift+bias", "bias": [2, 1],
           "fill": true})",
        R"("neuron": "lif", "readout": "residual", "attention": {"kind": "ssa", "recency": "shift"})",
        R"("neuron": "lif", "readout": "levels", "attention": {"kind": "softmax"},
           "lif": {"learn_tau": "channel", "learn_v_th": "channel"})",
    };
    std::uint64_t seed = 3;
    for (const char* m : models) {
        CAPTURE(m);
        const sim_network net = test::firing_network("{" + base + ", " + m + "}", seed);
        const std::vector<std::int32_t> tokens = test::some_tokens(net.cfg.max_len, net.cfg.vocab, seed++);
        host_executor ex;
        const sim_result whole = kernel_simulator<host_executor>(ex, net).run({tokens}).front();
        stream_decoder cpu(net);
        kernel_stream<host_executor> kernels(ex, net);
        const std::size_t V = net.cfg.vocab;
        std::uint64_t ac = 0;
        for (std::size_t n = 0; n < tokens.size(); ++n) {
            CAPTURE(n);
            op_counts ops_cpu, ops_kernels;
            const std::vector<float> a = cpu.push(tokens[n], &ops_cpu), b = kernels.push(tokens[n], &ops_kernels);
            CHECK(same_bits(a, b));
            CHECK(std::memcmp(b.data(), whole.logits.data() + n * V, V * sizeof(float)) == 0);
            CHECK(ops_cpu == ops_kernels);
            ac += ops_kernels[op_class::ac];
        }
        CHECK(kernels.length() == tokens.size());
        CHECK_THROWS_AS(kernels.push(tokens[0]), config_error);  // past max_len
        CHECK(ac > 0);
    }
    const sim_network we = test::firing_network("{" + dims + R"(, "causal": false, "attention": {"kind": "wta"}})", 1);
    host_executor ex;
    CHECK_THROWS_AS(kernel_stream<host_executor>(ex, we), config_error);
}

TEST_CASE("kernels: the cpu engine's LIF update with a power-of-two tau equals lif_forward_step bit for bit") {
    using namespace wtasim::sim_detail;
    CHECK(power_of_two(2.0f));
    CHECK(power_of_two(0.5f));
    CHECK(power_of_two(1.0f));
    CHECK_FALSE(power_of_two(3.0f));
    CHECK_FALSE(power_of_two(2.5f));
    CHECK_FALSE(power_of_two(0.0f));
    const counter_rng rng(41);
    const std::size_t M = 4099;
    std::vector<float> x(M), v0(M);
    rng.fill_normal(x.data(), M, 1, 0, 0.3f, 1.5f);
    rng.fill_normal(v0.data(), M, 2, 0, 0.2f, 0.8f);
    for (float tau : {2.0f, 4.0f, 0.5f, 1.0f})
        for (bool decay_input : {true, false})
            for (reset_mode reset : {reset_mode::hard, reset_mode::soft}) {
                CAPTURE(tau);
                CAPTURE(decay_input);
                lif_params p;
                p.tau = tau;
                p.v_th = 0.7f;
                p.v_reset = -0.1f;
                p.decay_input = decay_input;
                p.reset = reset;
                lif_coeffs k = lif_coeffs_of(p);
                k.v_reset = reset == reset_mode::hard ? p.v_reset : 0.0f;
                std::vector<float> v = v0, s(M), v_ref = v0, s_ref(M);
                for (int step = 0; step < 3; ++step) {  // a few steps, so that resets feed back
                    lif_pow2_update(s.data(), v.data(), x.data(), M, k);
                    for (std::size_t i = 0; i < M; ++i) {
                        float charged;
                        s_ref[i] = lif_forward_step(v_ref[i], x[i], k, charged);
                    }
                    CHECK(std::memcmp(v.data(), v_ref.data(), M * 4) == 0);
                    CHECK(s == s_ref);
                }
#if defined(__AVX2__)
                // the fused update and event scan, over rows of C neurons (tails of C % 8 and C % 64, several
                // 64-neuron words per row), with and without the dense spikes: the same membranes and spikes,
                // and the spikes' events in token then neuron order
                for (std::size_t C : {5u, 64u, 67u, 136u}) {
                    CAPTURE(C);
                    const std::size_t N = M / C, NC = N * C;
                    std::vector<float> ve = v0, vn = v0, se(NC), vr = v0, sr(NC);
                    events ev, evn;
                    for (int step = 0; step < 3; ++step) {
                        const std::size_t fired = lif_pow2_events(se.data(), ve.data(), x.data(), N, C, k, ev);
                        CHECK(lif_pow2_events(nullptr, vn.data(), x.data(), N, C, k, evn) == fired);
                        lif_pow2_update(sr.data(), vr.data(), x.data(), NC, k);
                        CHECK(std::memcmp(ve.data(), vr.data(), NC * 4) == 0);
                        CHECK(std::memcmp(vn.data(), vr.data(), NC * 4) == 0);
                        CHECK(se == sr);
                        events expect;
                        for (std::size_t i = 0; i < NC; ++i)
                            if (sr[i] != 0.0f) {
                                expect.token.push_back(std::uint32_t(i / C));
                                expect.neuron.push_back(std::uint32_t(i % C));
                                expect.value.push_back(sr[i]);
                            }
                        CHECK(fired == expect.token.size());
                        CHECK(ev.token == expect.token);
                        CHECK(ev.neuron == expect.neuron);
                        CHECK(ev.value == expect.value);
                        CHECK(evn.neuron == expect.neuron);
                    }
                }
#endif
            }
}
