// Reference attention kernels (serial, float dot-product scores), configuration and operation counts.
#include "attention/attention.hpp"

#include <cmath>

#include <algorithm>
#include <string>

#include "attention/head_kernels.hpp"
#include "core/error.hpp"

namespace wtasim {

void attention_config::validate() const {
    if (k < 1) throw config_error("attention: k = " + std::to_string(k) + ", must be >= 1");
    if (!(v_th_attn > 0.0f))
        throw config_error("attention: v_th_attn = " + std::to_string(v_th_attn) + ", must be > 0");
    if (!(alpha_wta > 0.0f))
        throw config_error("attention: alpha_wta = " + std::to_string(alpha_wta) + ", must be > 0");
    if ((bias_len > 0 || fill) && kind != attention_kind::wta)
        throw config_error("attention: a recency bias needs kind \"wta\"");
    for (std::size_t d = 0; d < bias_len; ++d)
        if (!(bias[d] >= 0.0f) || bias[d] != std::floor(bias[d]) || (d > 0 && bias[d] > bias[d - 1]))
            throw config_error("attention: bias[" + std::to_string(d) + "] = " + std::to_string(bias[d]) +
                               ", the bias must be non-negative integers, non-increasing with distance");
    if (fill && bias_len == 0) throw config_error("attention: fill needs a recency bias");
}

double no_winner_fraction(const std::int32_t* winners, std::size_t queries, std::size_t k, const std::uint8_t* real) {
    std::size_t counted = 0, empty = 0;
    for (std::size_t q = 0; q < queries; ++q) {
        if (real && !real[q]) continue;
        ++counted;
        bool none = true;
        for (std::size_t r = 0; r < k; ++r) none = none && winners[q * k + r] < 0;
        empty += none ? 1 : 0;
    }
    return counted == 0 ? 0.0 : double(empty) / double(counted);
}

attention_kind attention_kind_from_name(const std::string& name) {
    if (name == "wta") return attention_kind::wta;
    if (name == "ssa") return attention_kind::ssa;
    if (name == "softmax") return attention_kind::softmax;
    throw config_error("attention kind \"" + name + "\" is unknown, expected \"wta\", \"ssa\" or \"softmax\"");
}

const char* attention_kind_name(attention_kind k) {
    switch (k) {
        case attention_kind::wta:
            return "wta";
        case attention_kind::ssa:
            return "ssa";
        default:
            return "softmax";
    }
}

namespace {
template <class F>
void for_each_head(const attention_dims& d, F&& f) {
    for (std::size_t t = 0; t < d.shape.T; ++t)
        for (std::size_t b = 0; b < d.shape.B; ++b)
            for (std::size_t h = 0; h < d.H; ++h) f(detail::head_view{&d, t, b, h});
}
}  // namespace

void attention_forward(float* o, std::int32_t* winners, const float* q, const float* k, const float* v,
                       const attention_dims& d, const attention_config& cfg) {
    cfg.validate();
    for_each_head(d, [&](const detail::head_view& hv) {
        detail::head_forward(o, winners, v, hv, cfg, detail::dot_score{q, k, hv});
    });
}

void attention_backward(float* dq, float* dk, float* dv, const float* d_o, const float* q, const float* k,
                        const float* v, const std::int32_t* winners, const attention_dims& d,
                        const attention_config& cfg) {
    cfg.validate();
    const std::size_t n = d.shape.rows() * d.D();
    std::fill(dq, dq + n, 0.0f);
    std::fill(dk, dk + n, 0.0f);
    std::fill(dv, dv + n, 0.0f);
    for_each_head(d, [&](const detail::head_view& hv) {
        detail::head_backward(dq, dk, dv, d_o, q, k, v, winners, hv, cfg, detail::dot_score{q, k, hv});
    });
}

namespace {
// The counts of docs/model.md §7; score_of(hv) gives the head's score function s(i, j).
template <class ScoreOf>
op_counts count_attention(const float* v, const std::int32_t* winners, const attention_dims& d,
                          const attention_config& cfg, std::size_t first_query, ScoreOf&& score_of) {
    op_counts ops;
    const std::size_t kw = static_cast<std::size_t>(cfg.k);
    std::vector<std::uint32_t> cand;
    for_each_head(d, [&](const detail::head_view& hv) {
        const auto score = score_of(hv);
        auto nnz_v = [&](std::size_t j) {
            const float* vj = v + hv.offset(j);
            std::uint64_t n = 0;
            for (std::size_t x = 0; x < d.dh; ++x) n += vj[x] != 0.0f ? 1 : 0;
            return n;
        };
        for (std::size_t i = first_query; i < d.shape.N; ++i) {
            if (!d.real(hv.b, i)) continue;
            hv.candidates(i, cfg.causal, cand);
            for (std::uint32_t j : cand) {
                const float s = score(i, j);
                ops.add(op_class::ac, static_cast<std::uint64_t>(s));                     // one AC per coincidence
                if (cfg.bias_at(j > i ? j - i : i - j) > 0.0f) ops.add(op_class::ac, 1);  // the recency bonus
                if (cfg.kind == attention_kind::ssa && s > 0.0f) ops.add(op_class::ac, nnz_v(j));
                if (cfg.kind == attention_kind::softmax) {
                    ops.add(op_class::mac, 1);
                    ops.add(op_class::exp, 1);
                    ops.add(op_class::div, 1);
                    ops.add(op_class::ac, nnz_v(j));
                }
            }
            if (cfg.kind == attention_kind::wta) {
                ops.add(op_class::cmp, kw * cand.size());
                const std::int32_t* w = winners + hv.winners_offset(i, kw);
                for (std::size_t r = 0; r < kw; ++r)
                    if (w[r] >= 0) ops.add(op_class::ac, nnz_v(static_cast<std::size_t>(w[r])));
            }
        }
    });
    return ops;
}

// s(i, j) read from the head's [N, N] block of precomputed scores.
struct stored_score {
    const float* s;
    std::size_t N;
    float operator()(std::size_t i, std::size_t j) const { return s[i * N + j]; }
};
}  // namespace

op_counts attention_counts(const float* q, const float* k, const float* v, const std::int32_t* winners,
                           const attention_dims& d, const attention_config& cfg, std::size_t first_query) {
    return count_attention(v, winners, d, cfg, first_query, [&](const detail::head_view& hv) {
        return detail::dot_score{q, k, hv};
    });
}

op_counts attention_counts_from_scores(const float* scores, const float* v, const std::int32_t* winners,
                                       const attention_dims& d, const attention_config& cfg, std::size_t first_query) {
    const std::size_t N = d.shape.N;
    return count_attention(v, winners, d, cfg, first_query, [&](const detail::head_view& hv) {
        return stored_score{scores + (((hv.t * d.shape.B + hv.b) * d.H + hv.h) * N) * N, N};
    });
}

}  // namespace wtasim
