// Internal to sim/: the per-step building blocks that the batch engine (engine.cpp) and the streaming
// decoder (stream.cpp) share, so that both perform the same float operations in the same order.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "neurons/step.hpp"
#include "sim/engine.hpp"
#include "sim/network.hpp"

namespace wtasim::sim_detail {

// Spike events of one population in one step: (token, neuron, value) in token then neuron order.
struct events {
    std::vector<std::uint32_t> token, neuron;
    std::vector<float> value;  // 1, or the NI-LIF level m / D_lv
    void clear() {
        token.clear();
        neuron.clear();
        value.clear();
    }
};

// A neuron population of N x C neurons, stepped one time step at a time with exactly the float operations
// of the trainer's multi-step kernels (neurons/lif.cpp, neurons/nilif.cpp).
struct population {
    neuron_kind kind;
    lif_params lif;
    nilif_params nilif;
    std::size_t C;
    std::vector<float> state;
    layer_stats* stats;
    layer_events* record = nullptr;  // optional event list
    bool record_membrane = false;    // also the membranes, into record->membrane
    std::uint32_t t = 0;             // current step, for the record
    // learned per-channel constants of a LIF population ([C] each; empty: lif.tau / lif.v_th)
    std::vector<float> tau_c = {}, v_th_c = {};

    void learned(const sim_neuron_constants& k) {
        tau_c = k.tau;
        v_th_c = k.v_th;
    }

    void reset(std::size_t N) {
        const float v0 = kind == neuron_kind::lif && lif.reset == reset_mode::hard ? lif.v_reset : 0.0f;
        state.assign(N * C, v0);
    }
    // Integrates the currents x [N, C], fires; writes the dense spike values to s and the events to ev.
    void step(float* s, events& ev, const float* x, std::size_t N) {
        ev.clear();
        const float levels = static_cast<float>(nilif.levels);
        const float v_reset = lif.reset == reset_mode::hard ? lif.v_reset : 0.0f;
        const lif_channels ch{tau_c.empty() ? nullptr : tau_c.data(), v_th_c.empty() ? nullptr : v_th_c.data(), C};
        for (std::size_t n = 0; n < N; ++n)
            for (std::size_t c = 0; c < C; ++c) {
                const std::size_t i = n * C + c;
                float membrane;
                const float out = kind == neuron_kind::nilif ? nilif_step(state[i], x[i], nilif, membrane)
                                  : ch.any()                 ? lif_step(state[i], x[i], lif, v_reset, ch, i, membrane)
                                                             : lif_step(state[i], x[i], lif, v_reset, membrane);
                if (record_membrane) record->membrane.push_back(membrane);
                s[i] = out;
                if (out != 0.0f) {
                    ev.token.push_back(static_cast<std::uint32_t>(n));
                    ev.neuron.push_back(static_cast<std::uint32_t>(c));
                    ev.value.push_back(out);
                    const auto m =
                        static_cast<std::uint64_t>(std::llround(out * (kind == neuron_kind::nilif ? levels : 1.0f)));
                    stats->events += m;
                    stats->active += 1;
                    if (record)
                        for (std::uint64_t e = 0; e < m; ++e) {
                            record->step.push_back(t);
                            record->token.push_back(static_cast<std::uint32_t>(n));
                            record->neuron.push_back(static_cast<std::uint32_t>(c));
                        }
                }
            }
        stats->ops.add(op_class::nu, N * C);
        stats->neurons += N * C;
    }
};

// The token shift of docs/model.md §10 on events: token n offers its own events and those of token n-1
// (n >= 1), each channel once, in token then neuron order; `dense` [N, C] receives the shifted spikes. No
// arithmetic: an event is delivered to a second key slot.
inline void shift_events(events& out, float* dense, const events& in, std::size_t N, std::size_t C) {
    out.clear();
    for (std::size_t i = 0; i < N * C; ++i) dense[i] = 0.0f;
    std::vector<std::size_t> begin(N + 1, in.token.size());
    for (std::size_t e = in.token.size(); e-- > 0;) begin[in.token[e]] = e;
    for (std::size_t n = N; n-- > 0;) begin[n] = std::min(begin[n], begin[n + 1]);
    for (std::size_t n = 0; n < N; ++n) {
        std::size_t a = begin[n], b = n > 0 ? begin[n - 1] : begin[n];
        const std::size_t a_end = begin[n + 1], b_end = n > 0 ? begin[n] : begin[n];
        while (a < a_end || b < b_end) {  // merge the two neuron-sorted runs
            std::uint32_t c;
            if (b >= b_end || (a < a_end && in.neuron[a] <= in.neuron[b])) {
                c = in.neuron[a];
                if (b < b_end && in.neuron[b] == c) ++b;
                ++a;
            } else {
                c = in.neuron[b++];
            }
            out.token.push_back(static_cast<std::uint32_t>(n));
            out.neuron.push_back(c);
            out.value.push_back(1.0f);
            dense[n * C + c] = 1.0f;
        }
    }
}

// Input currents of a folded linear from events: bias per token, then one weight row per event.
inline void linear_from_events(float* y, const events& ev, const folded_linear& f, std::size_t N, int levels,
                               layer_stats& st) {
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t o = 0; o < f.out; ++o) y[n * f.out + o] = 0.0f;
    for (std::size_t e = 0; e < ev.token.size(); ++e) {
        float* yr = y + ev.token[e] * f.out;
        const float* w = f.wt.data() + ev.neuron[e] * f.out;
        const float v = ev.value[e];
        if (v == 1.0f)
            for (std::size_t o = 0; o < f.out; ++o) yr[o] += w[o];
        else
            for (std::size_t o = 0; o < f.out; ++o) yr[o] += v * w[o];
        st.ops.add(op_class::ac, static_cast<std::uint64_t>(std::llround(v * static_cast<float>(levels))) * f.out);
    }
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t o = 0; o < f.out; ++o) y[n * f.out + o] += f.bias[o];
    st.ops.add(op_class::ac, N * f.out);
}

}  // namespace wtasim::sim_detail
