// The per-(t, b, h) attention kernels shared by the reference (attention/attention.cpp: float dot-product
// scores, serial) and the cpu backend (attention/cpu/attention.cpp: popcount scores, parallel over heads).
// Internal header: equations in attention/attention.hpp. Scores are exact integers either way, and all
// float arithmetic below runs in the same order for both, so their outputs are bit-identical.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "attention/attention.hpp"
#include "neurons/surrogate.hpp"

namespace wtasim::detail {

// Pointers to head h of the rows of sequence b at step t.
struct head_view {
    const attention_dims* d;
    std::size_t t, b, h;

    std::size_t offset(std::size_t n) const { return d->shape.row(t, b, n) * d->D() + h * d->dh; }
    std::size_t winners_offset(std::size_t i, std::size_t k) const {
        return (((t * d->shape.B + b) * d->H + h) * d->shape.N + i) * k;
    }
    // Real-token keys j visible from query i, ascending.
    void candidates(std::size_t i, bool causal, std::vector<std::uint32_t>& out) const {
        out.clear();
        const std::size_t end = causal ? i + 1 : d->shape.N;
        for (std::size_t j = 0; j < end; ++j)
            if (d->real(b, j)) out.push_back(static_cast<std::uint32_t>(j));
    }
};

// s_ij as a float dot product over the head's channels (exact for spikes: products of 0/1 summed below
// 2^24; for real inputs, the ANN twin's attention scores).
struct dot_score {
    const float* q;
    const float* k;
    const head_view& hv;
    float operator()(std::size_t i, std::size_t j) const {
        const float* qi = q + hv.offset(i);
        const float* kj = k + hv.offset(j);
        float s = 0.0f;
        for (std::size_t x = 0; x < hv.d->dh; ++x) s += qi[x] * kj[x];
        return s;
    }
};

// sum_x a[x] b[x] in eight interleaved partial sums (lane x % 8), added pairwise at the end: a fixed
// order, the same in every backend, and vectorisable (a single running sum is a chain of dependent adds).
inline float lane_dot(const float* a, const float* b, std::size_t n) {
    typedef float v8 __attribute__((vector_size(32)));
    v8 acc{};
    std::size_t x = 0;
    for (; x + 8 <= n; x += 8) {
        v8 va, vb;
        std::memcpy(&va, a + x, sizeof va);
        std::memcpy(&vb, b + x, sizeof vb);
        acc += va * vb;
    }
    for (std::size_t l = 0; x < n; ++x, ++l) acc[l] += a[x] * b[x];
    // ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)) by two shuffles, in registers
    const v8 p = acc + __builtin_shufflevector(acc, acc, 1, 0, 3, 2, 5, 4, 7, 6);
    const v8 q = p + __builtin_shufflevector(p, p, 2, 3, 0, 1, 6, 7, 4, 5);
    return q[0] + q[4];
}

// The recency bonus b(|i - j|) of docs/model.md §10 (0 without a bias); integers, so scores stay exact.
inline float recency_bonus(const attention_config& cfg, std::size_t i, std::size_t j) {
    return cfg.bias_len == 0 ? 0.0f : cfg.bias_at(j > i ? j - i : i - j);
}

struct scored {
    float s;
    std::uint32_t j;
};

// Puts the first min(k, |c|) candidates in winner order of docs/model.md §3.1 (higher score, then nearer to the
// query, then earlier) at the front; the rest stay unordered. O(|c| log k).
inline void order_candidates(std::vector<scored>& c, std::size_t i, std::size_t k) {
    const auto before = [i](const scored& a, const scored& b) {
        if (a.s != b.s) return a.s > b.s;
        const std::size_t da = a.j > i ? a.j - i : i - a.j, db = b.j > i ? b.j - i : i - b.j;
        if (da != db) return da < db;
        return a.j < b.j;
    };
    if (k == 1) {  // the single winner by one scan (the order is total, so the same one the sort finds)
        if (!c.empty()) std::iter_swap(c.begin(), std::min_element(c.begin(), c.end(), before));
        return;
    }
    std::partial_sort(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(std::min(k, c.size())), c.end(), before);
}

// tau_i of the WTA backward: midpoint of the k-th and (k+1)-th largest scores (|C_i| <= k: the smallest
// minus 1/2), at least 1/2. Reorders `scores`.
inline float wta_threshold(std::vector<float>& scores, std::size_t k) {
    auto& s = scores;
    float tau;
    if (s.size() <= k) {
        tau = *std::min_element(s.begin(), s.end()) - 0.5f;
    } else {
        std::partial_sort(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(k + 1), s.end(), std::greater<>());
        tau = (s[k - 1] + s[k]) / 2.0f;
    }
    return std::max(tau, 0.5f);
}

// Queries first_query..N-1 (all by default; a streaming decoder asks for the newest query only).
template <class Score>
void head_forward(float* o, std::int32_t* winners, const float* v, const head_view& hv, const attention_config& cfg,
                  Score&& score, std::size_t first_query = 0) {
    const std::size_t N = hv.d->shape.N, dh = hv.d->dh, k = static_cast<std::size_t>(cfg.k);
    // scratch kept per thread: a step of the simulator or the trainer allocates nothing here once warm
    thread_local std::vector<std::uint32_t> cand;
    thread_local std::vector<scored> c;
    thread_local std::vector<float> acc;
    acc.resize(dh);
    const float inv_sqrt_dh = 1.0f / std::sqrt(static_cast<float>(dh));
    for (std::size_t i = first_query; i < N; ++i) {
        hv.candidates(i, cfg.causal, cand);
        c.clear();
        for (std::uint32_t j : cand) c.push_back({score(i, j) + recency_bonus(cfg, i, j), j});
        std::fill(acc.begin(), acc.end(), 0.0f);
        if (cfg.kind == attention_kind::wta) {
            order_candidates(c, i, k);
            std::int32_t* w = winners ? winners + hv.winners_offset(i, k) : nullptr;
            for (std::size_t r = 0; r < k; ++r) {
                // a winner needs a coincidence (a positive raw score), or with `fill` a positive bonus
                const bool wins =
                    r < c.size() && (cfg.fill ? c[r].s > 0.0f : c[r].s - recency_bonus(cfg, i, c[r].j) > 0.0f);
                if (w) w[r] = wins ? static_cast<std::int32_t>(c[r].j) : -1;
                if (!wins) continue;
                const float* vj = v + hv.offset(c[r].j);
                for (std::size_t x = 0; x < dh; ++x) acc[x] += vj[x];
            }
            for (std::size_t x = 0; x < dh; ++x) acc[x] /= static_cast<float>(k);
        } else if (cfg.kind == attention_kind::ssa) {
            for (const scored& sc : c) {
                const float* vj = v + hv.offset(sc.j);
                for (std::size_t x = 0; x < dh; ++x) acc[x] += sc.s * vj[x];
            }
            for (std::size_t x = 0; x < dh; ++x) acc[x] *= cfg.ssa_scale;
        } else if (!c.empty()) {
            float mx = c[0].s * inv_sqrt_dh;
            for (const scored& sc : c) mx = std::max(mx, sc.s * inv_sqrt_dh);
            float sum = 0.0f;
            for (scored& sc : c) {
                sc.s = std::exp(sc.s * inv_sqrt_dh - mx);
                sum += sc.s;
            }
            for (const scored& sc : c) {
                const float p = sc.s / sum;
                const float* vj = v + hv.offset(sc.j);
                for (std::size_t x = 0; x < dh; ++x) acc[x] += p * vj[x];
            }
        }
        float* oi = o + hv.offset(i);
        for (std::size_t x = 0; x < dh; ++x) oi[x] = acc[x];
    }
}

// The score gradients g[c] = dL/ds(i, j_c) of query i into dQ_i += sum_c g[c] K_j and dK_j += g[c] Q_i. dQ_i
// is summed over c in ascending order in registers, 32 channels at a time (a running sum in memory waits on
// its own store at every candidate); dK_j, a different row for each c, is updated in place.
inline void score_grads(float* dqi, float* dk, const float* kk, const float* qi, const std::vector<std::size_t>& off,
                        const float* g, std::size_t dh) {
    const std::size_t n = off.size();
    for (std::size_t c = 0; c < n; ++c) {
        float* __restrict dkj = dk + off[c];
        for (std::size_t x = 0; x < dh; ++x) dkj[x] += g[c] * qi[x];
    }
    typedef float v8 __attribute__((vector_size(32)));
    std::size_t x0 = 0;
    for (; x0 + 32 <= dh; x0 += 32) {
        v8 a0{}, a1{}, a2{}, a3{};
        auto load = [](const float* f) {  // one vector load (a memcpy of an array of vectors went through the stack)
            v8 w;
            std::memcpy(&w, f, sizeof w);
            return w;
        };
        for (std::size_t c = 0; c < n; ++c) {
            const float* kj = kk + off[c] + x0;
            const v8 gc = v8{} + g[c];
            a0 += gc * load(kj), a1 += gc * load(kj + 8), a2 += gc * load(kj + 16), a3 += gc * load(kj + 24);
        }
        const v8 all[4] = {a0, a1, a2, a3};
        float acc[32];
        std::memcpy(acc, all, sizeof acc);
        for (std::size_t x = 0; x < 32; ++x) dqi[x0 + x] += acc[x];
    }
    for (; x0 < dh; ++x0) {
        float acc = 0.0f;
        for (std::size_t c = 0; c < n; ++c) acc += g[c] * kk[off[c] + x0];
        dqi[x0] += acc;
    }
}

// dq, dk, dv must be zero on entry for this head's rows (the callers clear them once).
template <class Score>
void head_backward(float* dq, float* dk, float* dv, const float* d_o, const float* q, const float* kk, const float* v,
                   const std::int32_t* winners, const head_view& hv, const attention_config& cfg, Score&& score) {
    const std::size_t N = hv.d->shape.N, dh = hv.d->dh, k = static_cast<std::size_t>(cfg.k);
    const float inv_sqrt_dh = 1.0f / std::sqrt(static_cast<float>(dh));
    const float inv_k = 1.0f / static_cast<float>(k);
    std::vector<std::uint32_t> cand;
    std::vector<std::size_t> off;
    std::vector<float> s, sorted, p, dp, g;
    for (std::size_t i = 0; i < N; ++i) {
        hv.candidates(i, cfg.causal, cand);
        if (cand.empty()) continue;
        const float* doi = d_o + hv.offset(i);
        const float* qi = q + hv.offset(i);
        float* dqi = dq + hv.offset(i);
        off.resize(cand.size());  // each candidate's row offset
        for (std::size_t c = 0; c < cand.size(); ++c) off[c] = hv.offset(cand[c]);
        s.resize(cand.size());
        for (std::size_t c = 0; c < cand.size(); ++c) s[c] = score(i, cand[c]) + recency_bonus(cfg, i, cand[c]);
        // <dO_i, V_j> for every candidate
        dp.resize(cand.size());
        for (std::size_t c = 0; c < cand.size(); ++c) dp[c] = lane_dot(doi, v + off[c], dh);
        if (cfg.kind == attention_kind::wta) {
            sorted = s;
            const float tau = wta_threshold(sorted, k);
            // the score gradients first, in a loop of their own that vectorises, then their use
            for (std::size_t c = 0; c < cand.size(); ++c)
                dp[c] = dp[c] * inv_k * sigmoid_surrogate_grad(cfg.alpha_wta, s[c] - tau);
            score_grads(dqi, dk, kk, qi, off, dp.data(), dh);
            const std::int32_t* w = winners + hv.winners_offset(i, k);
            for (std::size_t r = 0; r < k; ++r) {
                if (w[r] < 0) continue;
                float* dvj = dv + hv.offset(static_cast<std::size_t>(w[r]));
                for (std::size_t x = 0; x < dh; ++x) dvj[x] += doi[x] * inv_k;
            }
        } else if (cfg.kind == attention_kind::ssa) {
            p.resize(cand.size());
            for (std::size_t c = 0; c < cand.size(); ++c) p[c] = cfg.ssa_scale * dp[c];
            score_grads(dqi, dk, kk, qi, off, p.data(), dh);
            for (std::size_t c = 0; c < cand.size(); ++c) {
                float* dvj = dv + off[c];
                const float coef = cfg.ssa_scale * s[c];
                for (std::size_t x = 0; x < dh; ++x) dvj[x] += coef * doi[x];
            }
        } else {
            p.resize(cand.size());
            float mx = s[0] * inv_sqrt_dh;
            for (float sc : s) mx = std::max(mx, sc * inv_sqrt_dh);
            float sum = 0.0f;
            for (std::size_t c = 0; c < cand.size(); ++c) {
                p[c] = std::exp(s[c] * inv_sqrt_dh - mx);
                sum += p[c];
            }
            float pdp = 0.0f;
            for (std::size_t c = 0; c < cand.size(); ++c) {
                p[c] = p[c] / sum;
                pdp += p[c] * dp[c];
            }
            g.resize(cand.size());
            for (std::size_t c = 0; c < cand.size(); ++c) g[c] = p[c] * (dp[c] - pdp) * inv_sqrt_dh;
            score_grads(dqi, dk, kk, qi, off, g.data(), dh);
            for (std::size_t c = 0; c < cand.size(); ++c) {
                float* dvj = dv + off[c];
                for (std::size_t x = 0; x < dh; ++x) dvj[x] += p[c] * doi[x];
            }
        }
    }
}

}  // namespace wtasim::detail
