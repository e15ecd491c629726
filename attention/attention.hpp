// The attention kinds of docs/model.md §3 on spike tensors Q, K, V [T, B, N, D] (D = H d_h, head-major channels),
// forward, backward and operation counts. Per step t, sequence b, head h, query i, the candidates C_i
// are the real-token keys j (and j <= i when causal); s_ij = sum_d Q_id K_jd counts coincidences.
//   wta (WSSA / CWSSA): the min(k, #{s_ij > 0}) best candidates win (ties: smaller |i - j|, then smaller j);
//        O_i = (1/k) sum over winners of V_j.  Backward: M_ij ~ Heaviside(s_ij - tau_i) with a sigmoid
//        surrogate of slope alpha_wta; tau_i is the midpoint of the k-th and (k+1)-th largest candidate
//        scores (|C_i| <= k: the smallest minus 1/2), at least 1/2; dL/dM_ij = (1/k) <dO_i, V_j>.
//   ssa (Spikformer): O_i = scale sum_{j in C_i} s_ij V_j.
//   softmax: O_i = sum_{j in C_i} softmax_j(s_ij / sqrt(d_h)) V_j.
// The output neuron SN_a and the projections are not part of these kernels (see attention/block.hpp).
// Padding queries are computed like real ones (they are never read); counts cover real queries only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "attention/shape.hpp"
#include "energy/op_counts.hpp"

namespace wtasim {

enum class attention_kind { wta, ssa, softmax };

struct attention_config {
    attention_kind kind = attention_kind::wta;
    bool causal = false;
    int k = 1;                 // winners per query (wta)
    float v_th_attn = 0.5f;    // threshold of the attention output neuron SN_a
    float alpha_wta = 1.0f;    // surrogate slope of the winner selection, in score units
    float ssa_scale = 0.125f;  // Spikformer's scale (ssa)
    // Recency (docs/model.md §10): `shift` = each token's K and V spikes also carry its predecessor's
    // (attention/recency.hpp); `bias` (wta) = an integer bonus b(|i - j|), non-increasing, added to s_ij before
    // the top-k (distances past the table get 0); `fill` = a query whose raw scores are all 0 is still served
    // by the bonus alone (the nearest candidates), instead of getting no winner.
    bool shift = false;
    static constexpr std::size_t max_bias = 16;
    std::array<float, max_bias> bias{};
    std::size_t bias_len = 0;
    bool fill = false;
    // The Q and K neurons' own threshold (docs/model.md §10): lower than the block's v_th, Q and K fire more
    // and coincide more. Unset: the block's LIF threshold.
    bool own_qk_threshold = false;
    float v_th_qk = 1.0f;
    float bias_at(std::size_t distance) const { return distance < bias_len ? bias[distance] : 0.0f; }

    void validate() const;
};

// The fraction of queries without any winner in `winners` ([queries, k], -1 = none): the queries that get
// no context at all. Rows whose `real` entry is 0 (padding; may be null) are left out; 0 when none is left.
double no_winner_fraction(const std::int32_t* winners, std::size_t queries, std::size_t k,
                          const std::uint8_t* real = nullptr);

attention_kind attention_kind_from_name(const std::string& name);  // "wta", "ssa", "softmax"
const char* attention_kind_name(attention_kind k);

struct attention_dims {
    seq_shape shape;
    std::size_t H = 1, dh = 1;
    const std::uint8_t* token_mask = nullptr;  // [B, N], 1 = real token; null = no padding

    std::size_t D() const { return H * dh; }
    bool real(std::size_t b, std::size_t n) const { return token_mask == nullptr || token_mask[b * shape.N + n]; }
};

// Reference forward. o [T, B, N, D]; winners [T, B, H, N, k] (wta only, -1 = no winner; may be null for
// the other kinds).
void attention_forward(float* o, std::int32_t* winners, const float* q, const float* k, const float* v,
                       const attention_dims& d, const attention_config& cfg);
// Reference backward: dq, dk, dv [T, B, N, D] are overwritten. `winners` is the forward's (wta).
void attention_backward(float* dq, float* dk, float* dv, const float* d_o, const float* q, const float* k,
                        const float* v, const std::int32_t* winners, const attention_dims& d,
                        const attention_config& cfg);
// Operations of docs/model.md §7 from the actual spikes (and winners, for wta), real queries from `first_query` on.
op_counts attention_counts(const float* q, const float* k, const float* v, const std::int32_t* winners,
                           const attention_dims& d, const attention_config& cfg, std::size_t first_query = 0);
// The same counts from scores already computed, [T, B, H, N, N] (the simulator's coincidence counts, which
// equal the spikes' dot products exactly): no score is recomputed. Entries that are no candidates are not read.
op_counts attention_counts_from_scores(const float* scores, const float* v, const std::int32_t* winners,
                                       const attention_dims& d, const attention_config& cfg,
                                       std::size_t first_query = 0);

namespace cpu {
// Scores by popcount of bit-packed heads, TBB over (t, b, h); bit-identical to the reference.
void attention_forward(float* o, std::int32_t* winners, const float* q, const float* k, const float* v,
                       const attention_dims& d, const attention_config& cfg);
void attention_backward(float* dq, float* dk, float* dv, const float* d_o, const float* q, const float* k,
                        const float* v, const std::int32_t* winners, const attention_dims& d,
                        const attention_config& cfg);
// Softmax attention on real-valued Q, K, V (the ANN twin): float dot-product scores, parallel over heads;
// bit-identical to the reference with cfg.kind = softmax.
void real_attention_forward(float* o, const float* q, const float* k, const float* v, const attention_dims& d,
                            const attention_config& cfg);
void real_attention_backward(float* dq, float* dk, float* dv, const float* d_o, const float* q, const float* k,
                             const float* v, const attention_dims& d, const attention_config& cfg);
}  // namespace cpu

}  // namespace wtasim
