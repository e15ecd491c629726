// The simulator's kernels as bodies that run on the host and on the GPU (core/launch.hpp): one element per
// call, raw pointers only, the float operations of the CPU engine (sim/detail.hpp, attention/head_kernels.hpp)
// in the same order, so an emulated launch on the host and a CUDA launch both equal the CPU engine bit for bit
// (softmax attention aside: expf differs by an ulp between the two). Rows are the tokens of a batch of B
// sequences of N tokens each, row b * N + n. The bodies:
//   - embed: X0 = E[token] + P[n];
//   - lif_population / nilif_population: one neuron step, element i of [rows, C] (neurons/step.hpp);
//   - spike_linear: input current y[r, o] of a folded spiking linear from the dense spikes s [rows, in]: the
//     weight rows of the inputs that fired, in increasing input order (a level v counts v x the row), then the
//     bias — the order in which linear_from_events adds them event by event;
//   - row_tally: the events (an NI-LIF level m counting m) and active neurons of each row, and sum_groups, the
//     fixed-order sums of those tallies per sequence: the operation counts computed on the device;
//   - coincidences and attend: the attention of one step (scores; WTA winners and gather, SSA or softmax),
//     with the data-dependent part of the attention's operation count per query;
//   - token_shift / shift_last: the K/V token shift on a whole sequence / at the newest position of a stream;
//   - lm_head: the head after the last step (per token, or pooled over a sequence for a task head).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/host_device.hpp"
#include "neurons/step.hpp"

namespace wtasim::sim_kernels {

// X0[r, c] = E[token r, c] + P[n, c], element i of [rows, D].
struct embed {
    float* x0;
    const std::int32_t* tokens;  // [rows]
    const float* tok;            // [V, D]
    const float* pos;            // [max_len, D]
    std::size_t N = 1, D = 1;
    std::size_t first_position = 0;  // position of row 0 (a stream's newest token)
    WTASIM_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t r = i / D, c = i % D, n = first_position + r % N;
        x0[i] = tok[static_cast<std::size_t>(tokens[r]) * D + c] + pos[n * D + c];
    }
};

struct lif_population {
    float* v;        // [rows, C] membranes, updated
    float* s;        // [rows, C] spikes out
    const float* x;  // [rows, C] input currents
    lif_coeffs k;    // v_reset already the reset target (0 for a soft reset)
    const float* tau_c = nullptr;
    const float* v_th_c = nullptr;  // per-channel constants [C], or null
    std::size_t C = 1;
    float* charged_out = nullptr;  // [rows, C] the charged membranes H (for a trace), or null
    WTASIM_HOST_DEVICE void operator()(std::size_t i) const {
        const lif_channels ch{tau_c, v_th_c, C};
        const lif_coeffs c = ch.any() ? lif_channel_coeffs(k, ch, i % C) : k;
        float charged;
        s[i] = lif_forward_step(v[i], x[i], c, charged);
        if (charged_out) charged_out[i] = charged;
    }
};

struct nilif_population {
    float* hm;  // [rows, C] carried membranes, updated
    float* s;   // [rows, C] spike values m / levels out
    const float* x;
    nilif_coeffs k;
    float* membrane_out = nullptr;  // [rows, C] the membranes U (for a trace), or null
    WTASIM_HOST_DEVICE void operator()(std::size_t i) const {
        float membrane, level;
        s[i] = nilif_forward_step(hm[i], x[i], k, membrane, level);
        if (membrane_out) membrane_out[i] = membrane;
    }
};

struct spike_linear {
    float* y;           // [rows, out]
    const float* s;     // [rows, in] spikes
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

// The events of row r (an NI-LIF level m counting m) and its active neurons (a non-zero output).
struct row_tally {
    std::uint64_t* events;  // [rows] out
    std::uint64_t* active;  // [rows] out, or null
    const float* s;         // [rows, C]
    std::size_t C = 1;
    float levels = 1.0f;  // 1 for LIF, D_lv for NI-LIF
    WTASIM_HOST_DEVICE void operator()(std::size_t r) const {
        std::uint64_t total = 0, on = 0;
        for (std::size_t c = 0; c < C; ++c) {
            const float v = s[r * C + c];
            if (v == 0.0f) continue;
            total += static_cast<std::uint64_t>(round_to_count(v * levels));
            ++on;
        }
        events[r] = total;
        if (active) active[r] = on;
    }
};

// out[g] = the sum of in[g * group .. (g + 1) * group), in order (integers: exact in any order anyway).
struct sum_groups {
    std::uint64_t* out;
    const std::uint64_t* in;
    std::size_t group = 1;
    WTASIM_HOST_DEVICE void operator()(std::size_t g) const {
        std::uint64_t total = 0;
        for (std::size_t x = 0; x < group; ++x) total += in[g * group + x];
        out[g] = total;
    }
};

// The queries of an attention step: Nq query rows per sequence, the first at position q0 (a full sequence:
// Nq = N, q0 = 0; a stream: the newest token alone), against N key positions.
struct query_rows {
    std::size_t B = 1, N = 0, Nq = 0, q0 = 0, H = 1, dh = 1;
    WTASIM_HOST_DEVICE std::size_t D() const { return H * dh; }
};

// Coincidence scores of one step, element (b, h, qi, j) of [B, H, Nq, N]: the channels of head h where query
// q0 + qi's and key j's spikes both fire (0 for a causal j past the query). Q and K spikes are binary, so the
// count is exact in any order: it equals the engine's count of (Q event, K event) pairs per channel.
struct coincidences {
    float* scores;   // [B, H, Nq, N]
    const float* q;  // [B, Nq, D] query spikes
    const float* k;  // [B, N, D] key spikes (the token-shifted ones with a shift)
    query_rows d;
    bool causal = true;
    WTASIM_HOST_DEVICE void operator()(std::size_t e) const {
        const std::size_t j = e % d.N, qi = e / d.N % d.Nq, h = e / (d.N * d.Nq) % d.H, b = e / (d.N * d.Nq * d.H);
        const std::size_t D = d.D(), i = d.q0 + qi;
        float count = 0.0f;
        if (!causal || j <= i) {
            const float* qr = q + (b * d.Nq + qi) * D;
            const float* kr = k + (b * d.N + j) * D;
            for (std::size_t c = h * d.dh; c < (h + 1) * d.dh; ++c)
                if (qr[c] != 0.0f && kr[c] != 0.0f) count += 1.0f;
        }
        scores[e] = count;
    }
};

// The attention output of one query, element (b, h, qi) of [B, H, Nq] (attention/head_kernels.hpp's
// head_forward step by step): the candidates j (all keys, or j <= i when causal) score s + b(|i - j|);
//   - wta: the k best in the winner order of docs/model.md §3.1 (higher score, then nearer, then earlier), kept
//     by insertion into a sorted list of k; a key wins with a coincidence (or, with `fill`, a positive bonus);
//     the output is the mean over the k slots of the winners' V rows, summed in rank order;
//   - ssa: sum_j s_ij V_j in key order, times the scale;
//   - softmax: softmax(s / sqrt(d_h)) V in key order.
// `tally` receives this query's data-dependent AC of docs/model.md §7: one per coincidence, plus one per
// non-zero V entry read (the winners' for wta, the scored keys' for ssa, every candidate's for softmax).
struct attend {
    static constexpr int max_k = 16;
    static constexpr std::size_t max_bias = 16;
    enum kind_t : int { wta = 0, ssa = 1, softmax = 2 };
    float* o;               // [B, Nq, D] head h's dh columns written
    std::int32_t* winners;  // [B, H, Nq, k] key indices, -1 for an empty slot; or null
    std::uint64_t* tally;   // [B, H, Nq], or null
    const float* scores;    // [B, H, Nq, N]
    const float* v;         // [B, N, D] value spikes (token-shifted with a shift)
    query_rows d;
    int kind = wta;
    int k = 1;
    bool causal = true, fill = false;
    float ssa_scale = 1.0f;
    float bias[max_bias] = {};
    std::size_t bias_len = 0;

    WTASIM_HOST_DEVICE float bonus(std::size_t i, std::size_t j) const {
        const std::size_t dist = j > i ? j - i : i - j;
        return dist < bias_len ? bias[dist] : 0.0f;
    }
    WTASIM_HOST_DEVICE static bool before(float sa, std::size_t ja, float sb, std::size_t jb, std::size_t i) {
        if (sa != sb) return sa > sb;
        const std::size_t da = ja > i ? ja - i : i - ja, db = jb > i ? jb - i : i - jb;
        if (da != db) return da < db;
        return ja < jb;
    }
    WTASIM_HOST_DEVICE std::uint64_t nnz(const float* row) const {
        std::uint64_t n = 0;
        for (std::size_t x = 0; x < d.dh; ++x) n += row[x] != 0.0f ? 1 : 0;
        return n;
    }
    WTASIM_HOST_DEVICE void operator()(std::size_t e) const {
        const std::size_t qi = e % d.Nq, h = e / d.Nq % d.H, b = e / (d.Nq * d.H), D = d.D(), i = d.q0 + qi;
        const float* srow = scores + e * d.N;
        const float* vb = v + b * d.N * D + h * d.dh;  // key j's head-h values at vb + j * D
        float* out = o + (b * d.Nq + qi) * D + h * d.dh;
        const std::size_t end = causal ? i + 1 : d.N;
        std::uint64_t ac = 0;
        for (std::size_t j = 0; j < end; ++j) ac += static_cast<std::uint64_t>(srow[j]);
        if (kind == wta) {
            float top_s[max_k];
            std::size_t top_j[max_k];
            int count = 0;
            for (std::size_t j = 0; j < end; ++j) {
                const float sc = srow[j] + bonus(i, j);
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
                if (winners) winners[e * std::size_t(k) + std::size_t(r)] = wins[r] ? std::int32_t(top_j[r]) : -1;
                if (wins[r]) ac += nnz(vb + top_j[r] * D);
            }
            for (std::size_t x = 0; x < d.dh; ++x) {
                float acc = 0.0f;
                for (int r = 0; r < k; ++r)
                    if (wins[r]) acc += vb[top_j[r] * D + x];
                out[x] = acc / static_cast<float>(k);
            }
        } else if (kind == ssa) {
            for (std::size_t j = 0; j < end; ++j)
                if (srow[j] > 0.0f) ac += nnz(vb + j * D);
            for (std::size_t x = 0; x < d.dh; ++x) {
                float acc = 0.0f;
                for (std::size_t j = 0; j < end; ++j) acc += (srow[j] + bonus(i, j)) * vb[j * D + x];
                out[x] = acc * ssa_scale;
            }
        } else {
            const float inv_sqrt_dh = 1.0f / sqrtf(static_cast<float>(d.dh));
            float mx = (srow[0] + bonus(i, 0)) * inv_sqrt_dh;
            for (std::size_t j = 0; j < end; ++j) {
                const float z = (srow[j] + bonus(i, j)) * inv_sqrt_dh;
                mx = z > mx ? z : mx;
                ac += nnz(vb + j * D);
            }
            float sum = 0.0f;
            for (std::size_t j = 0; j < end; ++j) sum += exp_float((srow[j] + bonus(i, j)) * inv_sqrt_dh - mx);
            for (std::size_t x = 0; x < d.dh; ++x) {
                float acc = 0.0f;
                for (std::size_t j = 0; j < end; ++j) {
                    const float p = exp_float((srow[j] + bonus(i, j)) * inv_sqrt_dh - mx) / sum;
                    acc += p * vb[j * D + x];
                }
                out[x] = acc;
            }
        }
        if (tally) tally[e] = ac;
    }
};

// dst = value, element-wise (a population's rest state, set on the device).
struct fill_values {
    float* dst;
    float value = 0.0f;
    WTASIM_HOST_DEVICE void operator()(std::size_t i) const { dst[i] = value; }
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

// The K/V token shift (docs/model.md §10) on dense binary spikes [B, N, C]: token n offers a channel when it
// or token n-1 of the same sequence fired there (value 1, each channel once), as shift_events does on events.
struct token_shift {
    float* out;
    const float* own;
    std::size_t C = 1, N = 1;
    WTASIM_HOST_DEVICE void operator()(std::size_t i) const {
        const bool has_prev = (i / C) % N != 0;
        const bool fired = own[i] != 0.0f || (has_prev && own[i - C] != 0.0f);
        out[i] = fired ? 1.0f : 0.0f;
    }
};

// The token shift at a stream's newest position: `row` (its own spikes [C], in the cache) becomes what it
// offers, its own or the previous position's (`last`), and `last` becomes its own spikes.
struct shift_last {
    float* row;
    float* last;
    bool has_prev = false;
    WTASIM_HOST_DEVICE void operator()(std::size_t c) const {
        const float own = row[c];
        if (has_prev) row[c] = own != 0.0f || last[c] != 0.0f ? 1.0f : 0.0f;
        last[c] = own;
    }
};

// The head after the last step, on the residual readout's sum over steps (D x O MAC), or, with `spikes`, on
// the final neuron's spikes of every step [T, rows, D] (a row per event, scaled by its value); then the mean
// over T and the bias, in the engine's order. Element (r, u) of [rows, O]; `pooled` (a sequence readout):
// element (b, u) of [B, O], the mean over the N tokens of sequence b before the bias.
struct lm_head {
    float* logits;        // [rows, O], pooled [B, O]
    const float* x_sum;   // [rows, D] (residual) or null
    const float* spikes;  // [T, rows, D] (spikes, levels) or null
    const float* wt;      // [D, O]
    const float* bias;    // [O]
    std::size_t rows = 0, D = 0, O = 0, T = 1;
    bool pooled = false;
    std::size_t N = 1;  // tokens per sequence (pooled)

    WTASIM_HOST_DEVICE float row_sum(std::size_t r, std::size_t u) const {
        float acc = 0.0f;
        if (x_sum) {
            for (std::size_t c = 0; c < D; ++c) acc += x_sum[r * D + c] * wt[c * O + u];
        } else {
            for (std::size_t t = 0; t < T; ++t)
                for (std::size_t c = 0; c < D; ++c) {
                    const float v = spikes[(t * rows + r) * D + c];
                    if (v != 0.0f) acc += v * wt[c * O + u];
                }
        }
        return acc;
    }
    WTASIM_HOST_DEVICE void operator()(std::size_t i) const {
        const std::size_t u = i % O;
        if (!pooled) {
            logits[i] = row_sum(i / O, u) / static_cast<float>(T) + bias[u];
            return;
        }
        const std::size_t b = i / O;
        float mean = 0.0f;
        for (std::size_t n = 0; n < N; ++n) mean += row_sum(b * N + n, u) / static_cast<float>(T);
        logits[i] = mean / static_cast<float>(N) + bias[u];
    }
};

}  // namespace wtasim::sim_kernels
