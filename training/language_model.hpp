// WE-/WD-Spikingformer and the ANN twin as whole language models (docs/model.md §4):
//   X0[t, n] = E[token_n] + P[n]  (repeated over T)
//   L blocks (attention/block.hpp, or attention/ann_block.hpp for the twin, T = 1)
//   Sf = SN(X) (spiking) or LN(X) (twin);  logits[n] = W_head mean_t(Sf[t, n]) + b
// Forward on token ids [B, N] with a mask, backward from dlogits, parameters under docs/model.md §8 names
// (embed.tok.weight, embed.pos.weight, blocks.<l>...., head.weight, head.bias; the twin adds
// final_norm.weight / final_norm.bias). The configuration is a JSON object, validated with clear errors.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "attention/ann_block.hpp"
#include "attention/block.hpp"
#include "model/checkpoint.hpp"
#include "model/config.hpp"

namespace wtasim {

class language_model {
public:
    explicit language_model(const model_config& cfg);

    void init(std::uint64_t seed);            // every parameter, the task head included
    void init_task_head(std::uint64_t seed);  // only the task head (fine-tuning a pretrained model)
    // logits [B, N, vocab] from tokens [B, N]; token_mask [B, N] (empty: all real).
    void forward(float* logits, const std::int32_t* tokens, std::size_t B, std::size_t N,
                 const std::vector<std::uint8_t>& token_mask, bool training);
    // Accumulates parameter gradients from dlogits [B, N, vocab].
    void backward(const float* dlogits);

    // The readout features [B * N, D] (spiking: mean_t(Sf); twin: the final LayerNorm), and their backward
    // (accumulates every parameter gradient below the heads from dfeatures [B * N, D]).
    const std::vector<float>& forward_features(const std::int32_t* tokens, std::size_t B, std::size_t N,
                                               const std::vector<std::uint8_t>& token_mask, bool training);
    void backward_features(const float* dfeatures);
    // The task head: out [B, outputs] (sequence readout) or [B * N, outputs] (token readout); needs a config
    // with a task. backward_task takes dout of the same shape.
    void forward_task(float* out, const std::int32_t* tokens, std::size_t B, std::size_t N,
                      const std::vector<std::uint8_t>& token_mask, bool training);
    void backward_task(const float* dout);
    // Rows of the task output: B (sequence readout) or B * N (token readout).
    std::size_t task_rows(std::size_t B, std::size_t N) const { return cfg_.task_readout == "token" ? B * N : B; }

    std::vector<param_ref> parameters();
    std::vector<param_ref> buffers();
    void zero_grad();
    op_counts counts() const;  // of the last forward, docs/model.md §7 (embedding position add, blocks, the head used)
    const model_config& config() const { return cfg_; }
    // Mean firing rate per block's neuron layers in the last forward (events per neuron per step).
    std::vector<double> firing_rates() const;
    // Per block, the fraction of real queries (over steps and heads) that had no WTA winner in the last forward.
    std::vector<double> no_winner_fractions() const;
    // Spikes per neuron layer of every block in the last forward, on real tokens (NI-LIF: levels), and of the
    // final layer.
    std::vector<block_spikes> block_spike_counts() const;
    std::uint64_t final_spike_count() const;

    // The residual stream after block l in the last forward, [T, B, N, D] (block l's output; distillation,
    // docs/model.md §10), and a gradient `d` of that shape added to the one flowing into it during the next
    // backward (pending gradients are dropped by the next forward and used up by the backward).
    const std::vector<float>& residual(std::size_t l) const { return acts_.at(l + 1); }
    void add_residual_grad(std::size_t l, const float* d);

private:
    model_config cfg_;
    tensor<float> tok_, pos_, head_w_, head_b_, norm_g_, norm_b_;
    tensor<float> dtok_, dpos_, dhead_w_, dhead_b_, dnorm_g_, dnorm_b_;
    tensor<float> task_w_, task_b_, dtask_w_, dtask_b_;
    bool task_head_used_ = false;  // which head the last forward ran (for counts)
    std::vector<std::unique_ptr<spiking_block>> blocks_;
    std::vector<std::unique_ptr<ann_block>> ann_blocks_;
    std::unique_ptr<neuron_layer> final_sn_;
    // last forward
    std::size_t B_ = 0, N_ = 0;
    std::vector<std::int32_t> tokens_;
    std::vector<std::uint8_t> mask_;
    std::vector<std::vector<float>> acts_;  // input of each block, then the last block's output
    std::vector<float> sf_, readout_, norm_mean_, norm_rstd_, pooled_, pool_count_;
    std::vector<std::vector<float>> dresidual_;  // add_residual_grad, per block (empty: none)
};

// The model's config, parameters and buffers as a checkpoint (docs/model.md §8 names; no tokenizer, optimizer or RNG
// state, step 0): what the simulator folds and what save_checkpoint writes.
checkpoint weights_checkpoint(language_model& m);

}  // namespace wtasim
