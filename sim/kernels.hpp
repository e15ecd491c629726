// The simulator's kernels as bodies that run on the host and on the GPU (core/launch.hpp): one element per
// call, raw pointers only, the float operations of the CPU engine (sim/detail.hpp) in the same order, so an
// emulated launch on the host and a CUDA launch both equal the CPU engine bit for bit:
//   - lif_population / nilif_population: one neuron step, element i of [N, C] (neurons/step.hpp);
//   - spike_linear: input current y[n, o] of a folded spiking linear from the dense spikes s [N, in]: the weight
//     rows of the inputs that fired, in increasing input order (a level v counts v x the row), then the bias —
//     the order in which linear_from_events adds them event by event;
//   - row_event_count: the events of row n (an NI-LIF level m counting m), for the operation counts.
// The first pieces of the CUDA simulator (issue: a CUDA backend of the event-driven engine); the engine does
// not run on them yet.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/host_device.hpp"
#include "neurons/step.hpp"

namespace wtasim::sim_kernels {

struct lif_population {
    float* v;        // [N, C] membranes, updated
    float* s;        // [N, C] spikes out
    const float* x;  // [N, C] input currents
    lif_coeffs k;    // v_reset already the reset target (0 for a soft reset)
    const float* tau_c = nullptr;
    const float* v_th_c = nullptr;  // per-channel constants [C], or null
    std::size_t C = 1;
    WTASIM_HOST_DEVICE void operator()(std::size_t i) const {
        const lif_channels ch{tau_c, v_th_c, C};
        const lif_coeffs c = ch.any() ? lif_channel_coeffs(k, ch, i % C) : k;
        float charged;
        s[i] = lif_forward_step(v[i], x[i], c, charged);
    }
};

struct nilif_population {
    float* hm;  // [N, C] carried membranes, updated
    float* s;   // [N, C] spike values m / levels out
    const float* x;
    nilif_coeffs k;
    WTASIM_HOST_DEVICE void operator()(std::size_t i) const {
        float membrane, level;
        s[i] = nilif_forward_step(hm[i], x[i], k, membrane, level);
    }
};

struct spike_linear {
    float* y;           // [N, out]
    const float* s;     // [N, in] spikes
    const float* wt;    // [in, out] folded weights, one row per input
    const float* bias;  // [out]
    std::size_t in = 0, out = 0;
    WTASIM_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t n = i / out, o = i % out;
        const float* sn = s + n * in;
        float acc = 0.0f;
        for (std::size_t j = 0; j < in; ++j) {
            const float v = sn[j];
            if (v == 0.0f) continue;
            acc += v == 1.0f ? wt[j * out + o] : v * wt[j * out + o];
        }
        y[i] = acc + bias[o];
    }
};

struct row_event_count {
    std::uint64_t* counts;  // [N] out
    const float* s;         // [N, C]
    std::size_t C = 1;
    float levels = 1.0f;  // 1 for LIF, D_lv for NI-LIF
    WTASIM_HOST_DEVICE void operator()(std::size_t n) const {
        std::uint64_t total = 0;
        for (std::size_t c = 0; c < C; ++c) {
            const float v = s[n * C + c];
            if (v != 0.0f) total += static_cast<std::uint64_t>(round_to_count(v * levels));
        }
        counts[n] = total;
    }
};

}  // namespace wtasim::sim_kernels
