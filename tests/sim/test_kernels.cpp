// The simulator's kernel bodies (sim/kernels.hpp) through the emulated launcher (core/launch.hpp), against the
// CPU engine's own steps (sim/detail.hpp): neuron populations and spiking linears, bit for bit, with the event
// counts. This is how the CUDA kernels' logic is tested on machines without a GPU; test_kernels_cuda.cpp runs
// the same bodies on a GPU (label `cuda`).
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "core/launch.hpp"
#include "core/rng.hpp"
#include "sim/detail.hpp"
#include "sim/kernels.hpp"

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
    std::vector<std::uint64_t> counts(N);
    std::uint64_t body_events = 0;
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
        emulate_launch(N, sim_kernels::row_event_count{counts.data(), s_body.data(), C, levels});
        for (auto c : counts) body_events += c;
    }
    CHECK(body_events == stats.events);
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
        emulate_launch(N, sim_kernels::row_event_count{counts.data(), s.data(), in, float(levels)});
        std::uint64_t events = 0;
        for (auto c : counts) events += c;
        CHECK(st.ops[op_class::ac] == (events + N) * out);  // a row per event (level), a bias per token
    }
}
