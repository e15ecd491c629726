// The membrane-shortcut spiking transformer block of docs/model.md §4, forward (training or evaluation) and
// BPTT backward, with its operation counts (docs/model.md §7):
//   S1 = SN(X);  Q, K, V = LIF(SL_{q,k,v}(S1));  O = Attn(Q, K, V);  Z = LIF_{v_th_attn}(O)
//   X1 = X + SL_o(Z);  S2 = SN(X1);  Y = X1 + SL_2(SN_h(SL_1(S2)))
// X and Y are real [T, B, N, D]. SN and SN_h are the block's neuron kind (lif or nilif); Q, K, V and
// SN_a are always binary LIF. Parameter names follow docs/model.md §8 under a prefix ("blocks.0.").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "attention/attention.hpp"
#include "attention/backend.hpp"
#include "attention/block_config.hpp"
#include "attention/layers.hpp"

namespace wtasim {

// Spike counts of the last forward, per neuron layer, on real tokens (NI-LIF: levels).
struct block_spikes {
    std::uint64_t s1 = 0, q = 0, k = 0, v = 0, z = 0, s2 = 0, h = 0;
};

class spiking_block {
public:
    spiking_block(const block_config& cfg, const std::string& prefix = "");

    void init(const counter_rng& rng, std::uint64_t stream);
    // y [T, B, N, D] from x; token_mask [B, N] (empty: no padding). x must stay alive until backward.
    void forward(float* y, const float* x, const seq_shape& shape, const std::vector<std::uint8_t>& token_mask,
                 bool training);
    // dx from dy; parameter gradients are accumulated.
    void backward(float* dx, const float* dy);

    op_counts counts() const;            // of the last forward, all layers
    op_counts attention_counts() const;  // of the last forward, the attention kernel alone
    // Spikes per layer in the last forward (NI-LIF: levels); real tokens only unless `real_only` is false.
    block_spikes spikes(bool real_only = true) const;
    const std::vector<std::int32_t>& winners() const { return winners_; }  // [T, B, H, N, k] (wta)
    // Of the last forward's real queries (every step and head), the fraction with no winner (wta; else 0).
    double no_winner_fraction() const;

    std::vector<param_ref> parameters();
    std::vector<param_ref> buffers();
    void zero_grad();
    const block_config& config() const { return cfg_; }

private:
    block_config cfg_;
    const attention_backend* attn_backend_;
    spiking_linear q_, k_, v_, o_, fc1_, fc2_;
    neuron_layer sn1_, nq_, nk_, nv_, na_, sn2_, snh_;
    // last forward
    seq_shape shape_;
    std::vector<std::uint8_t> token_mask_, valid_;
    // The keys and values attention reads: the K and V spikes, token-shifted when attn.shift is set.
    const float* keys() const { return cfg_.attn.shift ? k_sh_.data() : k_s_; }
    const float* values() const { return cfg_.attn.shift ? v_sh_.data() : v_s_; }
    // the spikes of the neuron layers (each layer's own buffer), and the block's other intermediates
    const float *s1_ = nullptr, *q_s_ = nullptr, *k_s_ = nullptr, *v_s_ = nullptr, *z_ = nullptr, *s2_ = nullptr,
                *hs_ = nullptr;
    std::vector<float> k_sh_, v_sh_;
    std::vector<std::int32_t> winners_;
};

}  // namespace wtasim
