// The simulator's kernels as bodies that run on the host and on the GPU (core/launch.hpp): one element per
// call, raw pointers only, the float operations of the CPU engine (sim/detail.hpp) in the same order, so an
// emulated launch on the host and a CUDA launch both equal the CPU engine bit for bit:
//   - lif_population / nilif_population: one neuron step, element i of [N, C] (neurons/step.hpp);
//   - spike_linear: input current y[n, o] of a folded spiking linear from the dense spikes s [N, in]: the weight
//     rows of the inputs that fired, in increasing input order (a level v counts v x the row), then the bias —
//     the order in which linear_from_events adds them event by event;
//   - row_event_count: the events of row n (an NI-LIF level m counting m), for the operation counts;
//   - coincidences and wta_select: the WSSA / CWSSA attention of one step (scores, winners, gather).
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

// Coincidence scores of one step, element (h, i, j) of [H, N, N]: the channels of head h where query i's and
// key j's spikes both fire (0 for a causal j > i). Q and K spikes are binary, so the count is exact in any order:
// it equals the engine's count of (Q event, K event) pairs per channel.
struct coincidences {
    float* scores;   // [H, N, N]
    const float* q;  // [N, D] query spikes
    const float* k;  // [N, D] key spikes (the token-shifted ones with a shift)
    std::size_t N = 0, H = 0, dh = 0;
    bool causal = true;
    WTASIM_HOST_DEVICE void operator()(std::size_t e) const {
        const std::size_t h = e / (N * N), i = e / N % N, j = e % N, D = H * dh;
        float count = 0.0f;
        if (!causal || j <= i)
            for (std::size_t c = h * dh; c < (h + 1) * dh; ++c)
                if (q[i * D + c] != 0.0f && k[j * D + c] != 0.0f) count += 1.0f;
        scores[e] = count;
    }
};

// k-WTA selection and winner gather of one step, element (h, i): the k best keys of query i in the winner order
// of docs/model.md §3.1 (higher score with its recency bonus, then nearer, then earlier), kept by insertion
// into a sorted list of k; a key wins with a coincidence (or, with `fill`, a positive bonus); the output is the
// mean over the k slots of the winners' V rows, summed in rank order — attention/head_kernels.hpp's
// head_forward step by step. k is at most max_k.
struct wta_select {
    static constexpr int max_k = 16;
    static constexpr std::size_t max_bias = 16;
    float* o;               // [N, D] head h's dh columns written
    std::int32_t* winners;  // [H, N, k] key indices, -1 for an empty slot; or null
    const float* scores;    // [H, N, N]
    const float* v;         // [N, D] value spikes (token-shifted with a shift)
    std::size_t N = 0, H = 0, dh = 0;
    int k = 1;
    bool causal = true, fill = false;
    float bias[max_bias] = {};
    std::size_t bias_len = 0;

    WTASIM_HOST_DEVICE float bonus(std::size_t i, std::size_t j) const {
        const std::size_t d = j > i ? j - i : i - j;
        return d < bias_len ? bias[d] : 0.0f;
    }
    WTASIM_HOST_DEVICE static bool before(float sa, std::size_t ja, float sb, std::size_t jb, std::size_t i) {
        if (sa != sb) return sa > sb;
        const std::size_t da = ja > i ? ja - i : i - ja, db = jb > i ? jb - i : i - jb;
        if (da != db) return da < db;
        return ja < jb;
    }
    WTASIM_HOST_DEVICE void operator()(std::size_t e) const {
        const std::size_t h = e / N, i = e % N, D = H * dh;
        float top_s[max_k];
        std::size_t top_j[max_k];
        int count = 0;
        const std::size_t end = causal ? i + 1 : N;
        for (std::size_t j = 0; j < end; ++j) {
            const float sc = scores[(h * N + i) * N + j] + bonus(i, j);
            if (count == k && !before(sc, j, top_s[k - 1], top_j[k - 1], i)) continue;
            int at = count < k ? count++ : k - 1;  // the last slot is free or loses its place
            while (at > 0 && before(sc, j, top_s[at - 1], top_j[at - 1], i)) {
                top_s[at] = top_s[at - 1];
                top_j[at] = top_j[at - 1];
                --at;
            }
            top_s[at] = sc;
            top_j[at] = j;
        }
        bool wins[max_k];
        for (int r = 0; r < k; ++r) {
            wins[r] = r < count && (fill ? top_s[r] > 0.0f : top_s[r] - bonus(i, top_j[r]) > 0.0f);
            if (winners) winners[(h * N + i) * std::size_t(k) + std::size_t(r)] = wins[r] ? std::int32_t(top_j[r]) : -1;
        }
        for (std::size_t x = 0; x < dh; ++x) {
            float acc = 0.0f;
            for (int r = 0; r < k; ++r)
                if (wins[r]) acc += v[top_j[r] * D + h * dh + x];
            o[i * D + h * dh + x] = acc / static_cast<float>(k);
        }
    }
};

// dst = src, element-wise.
struct copy_values {
    float* dst;
    const float* src;
    WTASIM_HOST_DEVICE void operator()(std::size_t i) const { dst[i] = src[i]; }
};

// out = a + b, element-wise (the residual adds).
struct add {
    float* out;
    const float* a;
    const float* b;
    WTASIM_HOST_DEVICE void operator()(std::size_t i) const { out[i] = a[i] + b[i]; }
};

// sum += x, element-wise (the residual readout's sum over the steps).
struct accumulate {
    float* sum;
    const float* x;
    WTASIM_HOST_DEVICE void operator()(std::size_t i) const { sum[i] += x[i]; }
};

// The K/V token shift (docs/model.md §10) on dense binary spikes [N, C]: token n offers a channel when it or
// token n-1 fired there (value 1, each channel once), as shift_events does on events.
struct token_shift {
    float* out;
    const float* own;
    std::size_t C = 1;
    WTASIM_HOST_DEVICE void operator()(std::size_t i) const {
        const bool fired = own[i] != 0.0f || (i >= C && own[i - C] != 0.0f);
        out[i] = fired ? 1.0f : 0.0f;
    }
};

// The LM head per (n, u) of [N, O], after the last step: on the residual readout's sum over steps (D x O MAC),
// or, with `spikes`, on the final neuron's spikes of every step [T, N, D] (a row per event, scaled by its
// value); then the mean over T and the bias, in the engine's order.
struct lm_head {
    float* logits;        // [N, O]
    const float* x_sum;   // [N, D] (residual) or null
    const float* spikes;  // [T, N, D] (spikes, levels) or null
    const float* wt;      // [D, O]
    const float* bias;    // [O]
    std::size_t N = 0, D = 0, O = 0, T = 1;
    WTASIM_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t n = i / O, u = i % O;
        float acc = 0.0f;
        if (x_sum) {
            for (std::size_t c = 0; c < D; ++c) acc += x_sum[n * D + c] * wt[c * O + u];
        } else {
            for (std::size_t t = 0; t < T; ++t)
                for (std::size_t c = 0; c < D; ++c) {
                    const float v = spikes[(t * N + n) * D + c];
                    if (v != 0.0f) acc += v * wt[c * O + u];
                }
        }
        logits[i] = acc / static_cast<float>(T) + bias[u];
    }
};

}  // namespace wtasim::sim_kernels
