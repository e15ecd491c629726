// Internal to sim/: the per-step building blocks that the batch engine (engine.cpp) and the streaming
// decoder (stream.cpp) share, so that both perform the same float operations in the same order.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "core/allocator.hpp"
#include "core/lanes.hpp"
#include "neurons/step.hpp"
#include "sim/engine.hpp"
#include "sim/network.hpp"

namespace wtasim::sim_detail {

// Spike events of one population in one step: (token, neuron, value) in token then neuron order.
struct events {
    template <class T>
    using buffer = std::vector<T, default_init_allocator<T>>;  // resize() does not clear
    buffer<std::uint32_t> token, neuron;
    buffer<float> value;  // 1, or the NI-LIF level m / D_lv
    void clear() {
        token.clear();
        neuron.clear();
        value.clear();
    }
};

// x / tau equals x * (1 / tau) bit for bit when tau is a power of two: 1 / tau is exact, and both are the
// correctly rounded value of the same real number.
inline bool power_of_two(float tau) {
    int e;
    return std::isfinite(tau) && tau > 0.0f && std::frexp(tau, &e) == 0.5f;
}

// lif_forward_step (neurons/step.hpp) over M neurons with the division by a power-of-two tau as a multiply
// (a vector division takes several times a multiply's throughput); same floats otherwise, in the same order.
inline void lif_pow2_update(float* __restrict s, float* __restrict v, const float* __restrict x, std::size_t M,
                            const lif_coeffs c) {
    const float r = 1.0f / c.tau;
    for (std::size_t i = 0; i < M; ++i) {
        const float h = c.decay_input ? v[i] + (x[i] - (v[i] - c.v_reset)) * r : v[i] - (v[i] - c.v_reset) * r + x[i];
        const float spike = h >= c.v_th ? 1.0f : 0.0f;
        v[i] = c.hard ? (h >= c.v_th ? c.v_reset : h) : h - spike * c.v_th;
        s[i] = spike;
    }
}

#if defined(__AVX2__)
// lif_pow2_update on eight neurons at once, in AVX2: the same floats in the same order. lanes(v, x, s) updates
// the membranes v[0 .. 8) with the currents x, writes the spikes to s unless s is null, and returns the
// fired lanes as a mask (bit i: neuron i).
struct lif_pow2_lanes {
    __m256 r, reset, th, one;
    bool decay_input, hard;
    explicit lif_pow2_lanes(const lif_coeffs& c)
        : r(_mm256_set1_ps(1.0f / c.tau)),
          reset(_mm256_set1_ps(c.v_reset)),
          th(_mm256_set1_ps(c.v_th)),
          one(_mm256_set1_ps(1.0f)),
          decay_input(c.decay_input),
          hard(c.hard) {}
    unsigned operator()(float* v, __m256 x, float* s) const {
        const __m256 vv = _mm256_loadu_ps(v);
        const __m256 h = decay_input ? _mm256_add_ps(vv, _mm256_mul_ps(_mm256_sub_ps(x, _mm256_sub_ps(vv, reset)), r))
                                     : _mm256_add_ps(_mm256_sub_ps(vv, _mm256_mul_ps(_mm256_sub_ps(vv, reset), r)), x);
        const __m256 f = _mm256_cmp_ps(h, th, _CMP_GE_OQ);
        const __m256 spike = _mm256_and_ps(f, one);
        _mm256_storeu_ps(v, hard ? _mm256_blendv_ps(h, reset, f) : _mm256_sub_ps(h, _mm256_mul_ps(spike, th)));
        if (s) _mm256_storeu_ps(s, spike);
        return static_cast<unsigned>(_mm256_movemask_ps(f));
    }
};

// lif_pow2_update and the event scan of population::scan in one pass over N x C neurons: eight neurons at a
// time (a row's last C % 8 one by one) into a 64-neuron fired mask, whose set bits then give the events
// (token then neuron order, value 1): work per event, not per neuron, on the event lists. The dense spikes
// go to s unless s is null. Returns the number of events.
inline std::size_t lif_pow2_events(float* s, float* v, const float* x, std::size_t N, std::size_t C, const lif_coeffs c,
                                   events& ev) {
    const std::size_t M = N * C;
    ev.token.resize(M);
    ev.neuron.resize(M);
    ev.value.resize(M);
    std::uint32_t* tok = ev.token.data();
    std::uint32_t* neu = ev.neuron.data();
    float* val = ev.value.data();
    const lif_pow2_lanes lanes(c);
    std::size_t k = 0;
    for (std::size_t n = 0; n < N; ++n) {
        for (std::size_t c0 = 0; c0 < C; c0 += 64) {
            const std::size_t c1 = std::min(C, c0 + 64);
            std::uint64_t fired = 0;
            std::size_t cc = c0;
            for (; cc + 8 <= c1; cc += 8) {
                const std::size_t i = n * C + cc;
                fired |= std::uint64_t{lanes(v + i, _mm256_loadu_ps(x + i), s ? s + i : nullptr)} << (cc - c0);
            }
            for (; cc < c1; ++cc) {
                const std::size_t i = n * C + cc;
                float spike;
                lif_pow2_update(&spike, v + i, x + i, 1, c);
                if (s) s[i] = spike;
                fired |= std::uint64_t{spike != 0.0f} << (cc - c0);
            }
            for (; fired != 0; fired &= fired - 1) {
                tok[k] = static_cast<std::uint32_t>(n);
                neu[k] = static_cast<std::uint32_t>(c0 + static_cast<std::size_t>(std::countr_zero(fired)));
                val[k] = 1.0f;
                ++k;
            }
        }
    }
    ev.token.resize(k);
    ev.neuron.resize(k);
    ev.value.resize(k);
    return k;
}
#endif

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
    // the cpu engine's choice: a tau that is a power of two divides as a multiply by 1 / tau (same bits);
    // the reference keeps the division, so the equivalence tests compare the two
    bool reciprocal_exact = false;

    // Whether step() takes lif_pow2_events (and the cpu engine may fuse this population into its linear);
    // its coefficients.
    bool pow2_lif() const {
#if defined(__AVX2__)
        return kind == neuron_kind::lif && tau_c.empty() && v_th_c.empty() && reciprocal_exact &&
               power_of_two(lif.tau) && !record;
#else
        return false;
#endif
    }
    lif_coeffs coeffs() const {
        lif_coeffs k = lif_coeffs_of(lif);
        k.v_reset = lif.reset == reset_mode::hard ? lif.v_reset : 0.0f;
        return k;
    }
    // The counts of a step whose events were found elsewhere (the cpu engine's fused linear): as step().
    void count_step(std::size_t N, std::size_t fired) {
        stats->events += fired;
        stats->active += fired;
        stats->ops.add(op_class::nu, N * C);
        stats->neurons += N * C;
    }

    // Room for N x C dense spikes that the caller does not want (per thread, kept between steps).
    float* dense_scratch(std::size_t N) const {
        thread_local std::vector<float> scratch;
        if (scratch.size() < N * C) scratch.resize(N * C);
        return scratch.data();
    }

    void learned(const sim_neuron_constants& k) {
        tau_c = k.tau;
        v_th_c = k.v_th;
    }

    void reset(std::size_t N) {
        const float v0 = kind == neuron_kind::lif && lif.reset == reset_mode::hard ? lif.v_reset : 0.0f;
        state.assign(N * C, v0);
    }
    // Integrates the currents x [N, C], fires; writes the dense spike values to s (unless s is null) and the
    // events to ev.
    // Two passes with the same float operations as one: the update, one loop per neuron kind without a
    // branch inside (so the compiler vectorises it), then a scan of the spikes that emits their events
    // (scan with AVX2; otherwise a loop that skips blocks of eight silent neurons). Event lists keep their
    // capacity from step to step. A recorded population takes the one-pass loop, which also writes the record.
    void step(float* s, events& ev, const float* x, std::size_t N) {
        if (record) return step_recorded(s ? s : dense_scratch(N), ev, x, N);
        ev.clear();
        const std::size_t M = N * C;
        float* v = state.data();
#if defined(__AVX2__)
        if (pow2_lif()) return count_step(N, lif_pow2_events(s, v, x, N, C, coeffs(), ev));
#endif
        if (!s) s = dense_scratch(N);
        if (kind == neuron_kind::nilif) {
            const nilif_coeffs k = nilif_coeffs_of(nilif);
            for (std::size_t i = 0; i < M; ++i) {
                float membrane, level;
                s[i] = nilif_forward_step(v[i], x[i], k, membrane, level);
            }
        } else {
            lif_coeffs k = lif_coeffs_of(lif);
            k.v_reset = lif.reset == reset_mode::hard ? lif.v_reset : 0.0f;
            if (tau_c.empty() && v_th_c.empty() && reciprocal_exact && power_of_two(k.tau)) {
                lif_pow2_update(s, v, x, M, k);
            } else if (tau_c.empty() && v_th_c.empty()) {
                for (std::size_t i = 0; i < M; ++i) {
                    float charged;
                    s[i] = lif_forward_step(v[i], x[i], k, charged);
                }
            } else {
                const lif_channels ch{tau_c.empty() ? nullptr : tau_c.data(), v_th_c.empty() ? nullptr : v_th_c.data(),
                                      C};
                for (std::size_t n = 0; n < N; ++n)
                    for (std::size_t c = 0; c < C; ++c) {
                        float charged;
                        s[n * C + c] =
                            lif_forward_step(v[n * C + c], x[n * C + c], lif_channel_coeffs(k, ch, c), charged);
                    }
            }
        }
        const float levels = kind == neuron_kind::nilif ? static_cast<float>(nilif.levels) : 1.0f;
        std::uint64_t count = 0, active = 0;
#if defined(__AVX2__)
        scan(s, ev, N, levels, count, active);
#else
        auto emit = [&](std::size_t n, std::size_t c, float value) {
            ev.token.push_back(static_cast<std::uint32_t>(n));
            ev.neuron.push_back(static_cast<std::uint32_t>(c));
            ev.value.push_back(value);
            count += levels == 1.0f ? 1 : static_cast<std::uint64_t>(std::llround(value * levels));
            ++active;
        };
        for (std::size_t n = 0; n < N; ++n) {
            const float* row = s + n * C;
            for (std::size_t c0 = 0; c0 < C; c0 += 8) {
                const std::size_t c1 = std::min(C, c0 + 8);
                bool any = false;
                for (std::size_t c = c0; c < c1; ++c) any |= row[c] != 0.0f;
                if (!any) continue;
                for (std::size_t c = c0; c < c1; ++c)
                    if (row[c] != 0.0f) emit(n, c, row[c]);
            }
        }
#endif
        stats->events += count;
        stats->active += active;
        stats->ops.add(op_class::nu, M);
        stats->neurons += M;
    }

#if defined(__AVX2__)
    // The events of the spikes s [N, C] in token then neuron order: per eight neurons a compare, the fired
    // lanes' indices from a table, and one store each of tokens, neurons and values (the lists are sized for
    // every neuron plus eight first, without clearing, and cut to the events after); a row's last C % 8
    // neurons one by one, each written and kept if it fired. No branch depends on the spikes.
    void scan(const float* s, events& ev, std::size_t N, float levels, std::uint64_t& count,
              std::uint64_t& active) const {
        const auto& lanes = set_lanes();
        const std::size_t M = N * C;
        ev.token.resize(M + 8);
        ev.neuron.resize(M + 8);
        ev.value.resize(M + 8);
        std::uint32_t* tok = ev.token.data();
        std::uint32_t* neu = ev.neuron.data();
        float* val = ev.value.data();
        std::size_t k = 0;
        for (std::size_t n = 0; n < N; ++n) {
            const float* row = s + n * C;
            const __m256i token = _mm256_set1_epi32(static_cast<int>(n));
            std::size_t c0 = 0;
            for (; c0 + 8 <= C; c0 += 8) {
                const __m256 v = _mm256_loadu_ps(row + c0);
                const auto fired =
                    static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_NEQ_OQ)));
                const __m256i lane = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(lanes[fired])));
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(tok + k), token);
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(neu + k),
                                    _mm256_add_epi32(lane, _mm256_set1_epi32(static_cast<int>(c0))));
                _mm256_storeu_ps(val + k, _mm256_permutevar8x32_ps(v, lane));
                k += static_cast<std::size_t>(std::popcount(fired));
            }
            for (; c0 < C; ++c0) {
                tok[k] = static_cast<std::uint32_t>(n);
                neu[k] = static_cast<std::uint32_t>(c0);
                val[k] = row[c0];
                k += row[c0] != 0.0f ? 1 : 0;
            }
        }
        ev.token.resize(k);
        ev.neuron.resize(k);
        ev.value.resize(k);
        active += k;
        if (levels == 1.0f) {
            count += k;
        } else {
            for (std::size_t e = 0; e < k; ++e) count += static_cast<std::uint64_t>(std::llround(val[e] * levels));
        }
    }
#endif

    // The one-pass step that also records events (and membranes).
    void step_recorded(float* s, events& ev, const float* x, std::size_t N) {
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
    thread_local std::vector<std::size_t> begin;  // per thread, so that a warm step allocates nothing
    begin.assign(N + 1, in.token.size());
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

// acc[u] += v_r * w_r[u] for r = 0 .. R-1 in order (u < O), where row(r) gives {w_r, v_r}: four rows per
// pass, each output summing its four scaled rows in a register, so `acc` is loaded and stored once per four
// rows. The float operations and their order are those of adding the rows one by one (a value of 1 scales
// exactly).
struct scaled_row {
    const float* w;
    float v;
};
template <class Row>
void add_rows(float* __restrict acc, std::size_t O, std::size_t R, Row&& row) {
    std::size_t r = 0;
    for (; r + 4 <= R; r += 4) {
        const scaled_row a = row(r), b = row(r + 1), c = row(r + 2), d = row(r + 3);
        const float* __restrict w0 = a.w;
        const float* __restrict w1 = b.w;
        const float* __restrict w2 = c.w;
        const float* __restrict w3 = d.w;
        for (std::size_t u = 0; u < O; ++u) {
            float x = acc[u];
            x += a.v * w0[u];
            x += b.v * w1[u];
            x += c.v * w2[u];
            x += d.v * w3[u];
            acc[u] = x;
        }
    }
    for (; r < R; ++r) {
        const scaled_row a = row(r);
        const float* __restrict w = a.w;
        for (std::size_t u = 0; u < O; ++u) acc[u] += a.v * w[u];
    }
}

// The events of each token of `ev` (contiguous, in token then neuron order): f(token, first, end).
template <class F>
void for_each_token_run(const events& ev, F&& f) {
    const std::size_t E = ev.token.size();
    for (std::size_t e = 0; e < E;) {
        const std::size_t b = e, n = ev.token[e];
        while (e < E && ev.token[e] == n) ++e;
        f(n, b, e);
    }
}

// The events of `ev` as units of docs/model.md §7: an NI-LIF level m counts m (a LIF event is 1).
inline std::uint64_t level_units(const events& ev, int levels) {
    if (levels == 1) return ev.value.size();
    std::uint64_t units = 0;
    for (float v : ev.value) units += static_cast<std::uint64_t>(std::llround(v * static_cast<float>(levels)));
    return units;
}

// Input currents of a folded linear from events: one weight row per event, then the bias per token. A
// token's events come in increasing neuron order and are added by add_rows into its zeroed row: the float
// operations, in the order, of adding them event by event.
inline void linear_from_events(float* y, const events& ev, const folded_linear& f, std::size_t N, int levels,
                               layer_stats& st) {
    const std::size_t out = f.out;
    std::fill(y, y + N * out, 0.0f);
    const std::uint64_t units = level_units(ev, levels);
    for_each_token_run(ev, [&](std::size_t n, std::size_t b, std::size_t end) {
        add_rows(y + n * out, out, end - b, [&](std::size_t r) {
            return scaled_row{f.wt.data() + ev.neuron[b + r] * out, ev.value[b + r]};
        });
    });
    st.ops.add(op_class::ac, units * out);
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t o = 0; o < out; ++o) y[n * out + o] += f.bias[o];
    st.ops.add(op_class::ac, N * out);
}

// The logits from the head's sums over the steps, head_acc [N, O]: the 1/T mean, then (pooled task heads) the
// mean over the tokens, then the bias; with the "residual" readout the head's D x O MAC per token, counted in
// the last step; the bias once per output row.
inline void finish_head(sim_result& r, const sim_network& net, const float* head_acc, std::size_t N, layer_stats& head,
                        bool residual) {
    const std::size_t O = net.head_outputs, T = net.cfg.T, D = net.cfg.D;
    if (residual) {
        head.ops.add(op_class::mac, N * D * O);
        r.per_step.back().add(op_class::mac, N * D * O);
    }
    const std::size_t rows = net.pooled ? 1 : N;
    r.logits.assign(rows * O, 0.0f);
    if (net.pooled) {  // mean over t, then over the tokens (the trainer's order), then the bias
        for (std::size_t n = 0; n < N; ++n)
            for (std::size_t u = 0; u < O; ++u) r.logits[u] += head_acc[n * O + u] / static_cast<float>(T);
        for (std::size_t u = 0; u < O; ++u) r.logits[u] = r.logits[u] / static_cast<float>(N) + net.head_b[u];
    } else {
        for (std::size_t n = 0; n < N; ++n)
            for (std::size_t u = 0; u < O; ++u)
                r.logits[n * O + u] = head_acc[n * O + u] / static_cast<float>(T) + net.head_b[u];
    }
    head.ops.add(op_class::ac, rows * O);  // the bias, once per output row
    r.per_step.back().add(op_class::ac, rows * O);
    for (const auto& st : r.layers) r.total += st.ops;
}

}  // namespace wtasim::sim_detail
