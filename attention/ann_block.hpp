// The ANN twin's block (docs/model.md §3.2): a standard pre-LayerNorm transformer block on real values, T = 1:
//   A = X + W_o Attn(LN_1(X)) + b_o,   Y = A + W_2 GELU(W_1 LN_2(A) + b_1) + b_2
// with biased q/k/v/o projections, softmax attention over real-token keys (causal for decoders), exact
// (erf) GELU and LayerNorm with eps 1e-5. X, Y are [B, N, D]. Forward, backward and the operation counts
// of docs/model.md §7 (every linear N D_in D_out MAC; attention |C| d_h MAC for Q K^T and again for A V plus |C|
// EXP and DIV; residual and bias adds AC; LayerNorm 4 MAC per element + 1 DIV per token; GELU 1 EXP +
// 4 MAC per element), on real tokens.
#pragma once

#include <string>
#include <vector>

#include "attention/attention.hpp"
#include "attention/layers.hpp"

namespace wtasim {

struct ann_block_config {
    std::size_t D = 64, H = 4, F = 256;
    bool causal = false;

    void validate() const;
};

// The operations of the block on `tokens` real tokens whose queries have `pairs` candidate keys in all
// (sum over real queries of |C_i|): sizes and tokens decide them, not weights or values.
op_counts ann_block_counts(const ann_block_config& cfg, std::uint64_t tokens, std::uint64_t pairs);
// The twin's final LayerNorm and head with `outputs` outputs on `tokens` real tokens of `sequences`
// sequences: per token (LM head, token readout) or `pooled` (sequence readout: mean over tokens first).
op_counts ann_head_counts(std::uint64_t D, std::uint64_t outputs, std::uint64_t tokens, std::uint64_t sequences,
                          bool pooled);

class ann_block {
public:
    ann_block(const ann_block_config& cfg, const std::string& prefix = "");

    void init(const counter_rng& rng, std::uint64_t stream);
    void forward(float* y, const float* x, std::size_t B, std::size_t N, const std::vector<std::uint8_t>& token_mask);
    void backward(float* dx, const float* dy);
    op_counts counts() const;

    std::vector<param_ref> parameters();
    void zero_grad();

private:
    struct dense {
        std::string name;
        std::size_t in, out;
        tensor<float> w, b, dw, db;
    };
    struct norm {
        std::string name;
        tensor<float> g, b, dg, db;
    };
    void linear(const dense& l, float* y, const float* x, std::size_t rows) const;
    void linear_back(dense& l, float* dx, const float* dy, const float* x, std::size_t rows);

    ann_block_config cfg_;
    dense q_, k_, v_, o_, fc1_, fc2_;
    norm ln1_, ln2_;
    // last forward
    std::size_t B_ = 0, N_ = 0;
    std::vector<std::uint8_t> mask_;
    std::vector<float> x_, l1_, mean1_, rstd1_, q_s_, k_s_, v_s_, att_, a_, l2_, mean2_, rstd2_, h_, g_;
};

// LayerNorm over the last axis of [rows, C]: y = (x - mean) rstd g + b; keeps mean and rstd per row.
void layernorm_forward(float* y, float* mean, float* rstd, const float* x, const float* g, const float* b,
                       std::size_t rows, std::size_t C);
void layernorm_backward(float* dx, float* dg, float* db, const float* dy, const float* x, const float* mean,
                        const float* rstd, const float* g, std::size_t rows, std::size_t C);
// GELU(x) = x Phi(x) (erf form) and its derivative.
void gelu_forward(float* y, const float* x, std::size_t n);
void gelu_backward(float* dx, const float* dy, const float* x, std::size_t n);

}  // namespace wtasim
