// Objectives of docs/model.md §5 and the optimiser.
// - cross_entropy: mean over the rows whose target is >= 0 of -log softmax(logits)[target]; dlogits is the
//   gradient of that mean (softmax - onehot) / count, zero on ignored rows. Log-sum-exp in double.
// - clm_targets: next-token targets within each sequence's real tokens (-1 elsewhere).
// - mlm_mask: 15% of the non-special real tokens are chosen (counter RNG: the same for any thread count);
//   of those 80% become <mask>, 10% a random token, 10% stay; targets are the originals (-1 elsewhere).
// - adamw: Adam with decoupled weight decay (Loshchilov & Hutter), bias-corrected; no decay on biases,
//   norms and embeddings; learning rate = warm-up (linear) then cosine decay to min_lr; gradients clipped
//   to a global L2 norm.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "attention/layers.hpp"
#include "core/rng.hpp"

namespace wtasim {

struct loss_result {
    double loss = 0.0;        // mean cross-entropy (nats) over counted rows
    std::size_t count = 0;    // rows with a target
    std::size_t correct = 0;  // rows whose argmax equals the target
};

loss_result cross_entropy(float* dlogits, const float* logits, const std::int32_t* targets, std::size_t rows,
                          std::size_t V);

std::vector<std::int32_t> clm_targets(const std::vector<std::int32_t>& tokens, const std::vector<std::uint8_t>& mask,
                                      std::size_t B, std::size_t N);

struct mlm_batch {
    std::vector<std::int32_t> inputs, targets;
};
// `special` ids (padding, <s>, </s>, <mask>, ...) are never chosen. `step` keys the random draws.
mlm_batch mlm_mask(const std::vector<std::int32_t>& tokens, const std::vector<std::uint8_t>& mask, std::size_t V,
                   std::int32_t mask_id, const std::vector<std::int32_t>& special, const counter_rng& rng,
                   std::uint64_t step, double rate = 0.15);

struct adamw_config {
    double lr = 1e-3, min_lr = 1e-4, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.01, clip = 1.0;
    double neuron_lr_scale = 1.0;  // the learning rate of learned neuron constants is lr(step) x this
    std::uint64_t warmup = 100, total = 1000;

    double learning_rate(std::uint64_t step) const;  // step counts from 0
};

class adamw {
public:
    explicit adamw(const adamw_config& cfg) : cfg_(cfg) {}
    // One update of every parameter from its gradient (scaled by `grad_scale`, e.g. 1/accumulation);
    // returns the global gradient norm before clipping.
    double step(std::vector<param_ref>& params, double grad_scale = 1.0);
    std::uint64_t steps() const { return t_; }

    // State for exact resume: "m.<name>", "v.<name>" and "t" (the step count as a 1-element tensor).
    std::map<std::string, tensor<float>> state() const;
    void load_state(const std::map<std::string, tensor<float>>& s);

private:
    adamw_config cfg_;
    std::uint64_t t_ = 0;
    std::map<std::string, tensor<float>> m_, v_;
};

// Whether a parameter gets weight decay: matrices of linear maps do; biases, norms, embeddings and learned
// neuron constants do not.
bool decays(const std::string& name);
// Whether a parameter is a learned neuron constant (<layer>.plif_w, <layer>.v_th; docs/model.md §10).
bool is_neuron_param(const std::string& name);

}  // namespace wtasim
