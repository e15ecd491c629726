// Whole language models (training/language_model.hpp).
#include "training/language_model.hpp"

#include <cmath>

#include "attention/linear.hpp"
#include "core/error.hpp"

namespace wtasim {

language_model::language_model(const model_config& cfg)
    : cfg_(cfg),
      tok_({cfg.vocab, cfg.D}),
      pos_({cfg.max_len, cfg.D}),
      head_w_({cfg.vocab, cfg.D}),
      head_b_({cfg.vocab}),
      norm_g_({cfg.D}, 1.0f),
      norm_b_({cfg.D}),
      dtok_({cfg.vocab, cfg.D}),
      dpos_({cfg.max_len, cfg.D}),
      dhead_w_({cfg.vocab, cfg.D}),
      dhead_b_({cfg.vocab}),
      dnorm_g_({cfg.D}),
      dnorm_b_({cfg.D}),
      task_w_({cfg.task_outputs, cfg.D}),
      task_b_({cfg.task_outputs}),
      dtask_w_({cfg.task_outputs, cfg.D}),
      dtask_b_({cfg.task_outputs}) {
    for (std::size_t l = 0; l < cfg.L; ++l) {
        const std::string prefix = "blocks." + std::to_string(l) + ".";
        if (cfg.spiking)
            blocks_.push_back(std::make_unique<spiking_block>(cfg.block, prefix));
        else
            ann_blocks_.push_back(
                std::make_unique<ann_block>(ann_block_config{cfg.D, cfg.H, cfg.F, cfg.causal}, prefix));
    }
    if (cfg.spiking && cfg.readout != "residual")  // docs/model.md §10 readouts: "levels" is NI-LIF always
        final_sn_ = std::make_unique<neuron_layer>(
            cfg.readout == "levels" ? neuron_kind::nilif : cfg.block.neuron, role_neuron(cfg.block, neuron_role::final),
            cfg.block.nilif, neuron_backend_named(cfg.block.backend), "final", cfg.D, cfg.block.learn);
}

void language_model::init(std::uint64_t seed) {
    const counter_rng rng(seed);
    rng.fill_normal(tok_.data(), tok_.size(), 0, 0, 0.0f, 1.0f);
    rng.fill_normal(pos_.data(), pos_.size(), 1, 0, 0.0f, 0.1f);
    const float bound = 1.0f / std::sqrt(static_cast<float>(cfg_.D));
    rng.fill_uniform(head_w_.data(), head_w_.size(), 2, 0, -bound, bound);
    head_b_.fill(0.0f);
    init_task_head(seed);
    for (std::size_t l = 0; l < cfg_.L; ++l) {
        if (cfg_.spiking)
            blocks_[l]->init(rng, 100 + 10 * l);
        else
            ann_blocks_[l]->init(rng, 100 + 10 * l);
    }
}

const std::vector<float>& language_model::forward_features(const std::int32_t* tokens, std::size_t B, std::size_t N,
                                                           const std::vector<std::uint8_t>& token_mask, bool training) {
    const std::size_t D = cfg_.D, T = cfg_.T, V = cfg_.vocab;
    if (N > cfg_.max_len)
        throw config_error("model: sequence of " + std::to_string(N) +
                           " tokens, longer than max_len = " + std::to_string(cfg_.max_len));
    for (std::size_t i = 0; i < B * N; ++i)
        if (tokens[i] < 0 || static_cast<std::size_t>(tokens[i]) >= V)
            throw config_error("model: token id " + std::to_string(tokens[i]) + " outside the vocabulary [0, " +
                               std::to_string(V) + ")");
    B_ = B;
    N_ = N;
    tokens_.assign(tokens, tokens + B * N);
    mask_ = token_mask;
    dresidual_.clear();
    const seq_shape shape{T, B, N};
    acts_.resize(cfg_.L + 1);  // each written in full below: kept, not cleared, from one batch to the next
    for (auto& a : acts_) a.resize(shape.rows() * D);
    for (std::size_t t = 0; t < T; ++t)
        for (std::size_t b = 0; b < B; ++b)
            for (std::size_t n = 0; n < N; ++n) {
                const float* e = tok_.data() + static_cast<std::size_t>(tokens[b * N + n]) * D;
                const float* p = pos_.data() + n * D;
                float* x = acts_[0].data() + shape.row(t, b, n) * D;
                for (std::size_t c = 0; c < D; ++c) x[c] = e[c] + p[c];
            }
    for (std::size_t l = 0; l < cfg_.L; ++l) {
        if (cfg_.spiking)
            blocks_[l]->forward(acts_[l + 1].data(), acts_[l].data(), shape, mask_, training);
        else
            ann_blocks_[l]->forward(acts_[l + 1].data(), acts_[l].data(), B, N, mask_);
    }
    readout_.assign(B * N * D, 0.0f);
    if (cfg_.spiking) {
        const float* s = acts_[cfg_.L].data();  // the "residual" readout: mean_t X
        if (final_sn_) {
            sf_.resize(shape.rows() * D);
            final_sn_->forward(sf_.data(), acts_[cfg_.L].data(), T, B * N * D);
            s = sf_.data();
        }
        for (std::size_t t = 0; t < T; ++t)
            for (std::size_t i = 0; i < B * N * D; ++i) readout_[i] += s[t * B * N * D + i];
        for (float& r : readout_) r /= static_cast<float>(T);
    } else {
        norm_mean_.resize(B * N);
        norm_rstd_.resize(B * N);
        layernorm_forward(readout_.data(), norm_mean_.data(), norm_rstd_.data(), acts_[cfg_.L].data(), norm_g_.data(),
                          norm_b_.data(), B * N, D);
    }
    return readout_;
}

void language_model::forward(float* logits, const std::int32_t* tokens, std::size_t B, std::size_t N,
                             const std::vector<std::uint8_t>& token_mask, bool training) {
    const std::size_t D = cfg_.D, V = cfg_.vocab;
    forward_features(tokens, B, N, token_mask, training);
    task_head_used_ = false;
    cpu::linear_forward_dense(logits, readout_.data(), head_w_.data(), B * N, D, V);
    for (std::size_t r = 0; r < B * N; ++r)
        for (std::size_t v = 0; v < V; ++v) logits[r * V + v] += head_b_.data()[v];
}

void language_model::backward(const float* dlogits) {
    const std::size_t D = cfg_.D, V = cfg_.vocab, rows = B_ * N_;
    cpu::linear_backward_weight_dense(dhead_w_.data(), dlogits, readout_.data(), rows, D, V);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t v = 0; v < V; ++v) dhead_b_.data()[v] += dlogits[r * V + v];
    std::vector<float> dreadout(rows * D);
    cpu::linear_backward_input(dreadout.data(), dlogits, head_w_.data(), rows, D, V);
    backward_features(dreadout.data());
}

void language_model::init_task_head(std::uint64_t seed) {
    if (cfg_.task.empty()) return;
    const counter_rng rng(seed);
    const float bound = 1.0f / std::sqrt(static_cast<float>(cfg_.D));
    rng.fill_uniform(task_w_.data(), task_w_.size(), 3, 0, -bound, bound);
    task_b_.fill(0.0f);
}

// The pooled features of each sequence (sequence readout): mean over its real tokens, into pooled [B, D].
void language_model::forward_task(float* out, const std::int32_t* tokens, std::size_t B, std::size_t N,
                                  const std::vector<std::uint8_t>& token_mask, bool training) {
    if (cfg_.task.empty()) throw config_error("model: this model has no task head (model config without \"task\")");
    const std::size_t D = cfg_.D, C = cfg_.task_outputs;
    forward_features(tokens, B, N, token_mask, training);
    task_head_used_ = true;
    if (cfg_.task_readout == "token") {
        cpu::linear_forward_dense(out, readout_.data(), task_w_.data(), B * N, D, C);
        for (std::size_t r = 0; r < B * N; ++r)
            for (std::size_t c = 0; c < C; ++c) out[r * C + c] += task_b_.data()[c];
        return;
    }
    pooled_.assign(B * D, 0.0f);
    pool_count_.assign(B, 0.0f);
    for (std::size_t b = 0; b < B; ++b) {
        for (std::size_t n = 0; n < N; ++n) {
            if (!mask_.empty() && !mask_[b * N + n]) continue;
            pool_count_[b] += 1.0f;
            for (std::size_t c = 0; c < D; ++c) pooled_[b * D + c] += readout_[(b * N + n) * D + c];
        }
        if (pool_count_[b] > 0)
            for (std::size_t c = 0; c < D; ++c) pooled_[b * D + c] /= pool_count_[b];
    }
    cpu::linear_forward_dense(out, pooled_.data(), task_w_.data(), B, D, C);
    for (std::size_t b = 0; b < B; ++b)
        for (std::size_t c = 0; c < C; ++c) out[b * C + c] += task_b_.data()[c];
}

void language_model::backward_task(const float* dout) {
    const std::size_t D = cfg_.D, C = cfg_.task_outputs;
    std::vector<float> dreadout(B_ * N_ * D, 0.0f);
    if (cfg_.task_readout == "token") {
        const std::size_t rows = B_ * N_;
        cpu::linear_backward_weight_dense(dtask_w_.data(), dout, readout_.data(), rows, D, C);
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t c = 0; c < C; ++c) dtask_b_.data()[c] += dout[r * C + c];
        cpu::linear_backward_input(dreadout.data(), dout, task_w_.data(), rows, D, C);
    } else {
        cpu::linear_backward_weight_dense(dtask_w_.data(), dout, pooled_.data(), B_, D, C);
        for (std::size_t b = 0; b < B_; ++b)
            for (std::size_t c = 0; c < C; ++c) dtask_b_.data()[c] += dout[b * C + c];
        std::vector<float> dpooled(B_ * D);
        cpu::linear_backward_input(dpooled.data(), dout, task_w_.data(), B_, D, C);
        for (std::size_t b = 0; b < B_; ++b) {
            if (pool_count_[b] == 0) continue;
            for (std::size_t n = 0; n < N_; ++n) {
                if (!mask_.empty() && !mask_[b * N_ + n]) continue;
                for (std::size_t c = 0; c < D; ++c)
                    dreadout[(b * N_ + n) * D + c] = dpooled[b * D + c] / pool_count_[b];
            }
        }
    }
    backward_features(dreadout.data());
}

void language_model::backward_features(const float* dreadout) {
    const std::size_t D = cfg_.D, T = cfg_.T, rows = B_ * N_;
    std::vector<float> dx(T * rows * D), dprev(T * rows * D);
    if (cfg_.spiking) {
        std::vector<float> dsf(final_sn_ ? T * rows * D : 0);
        float* ds = final_sn_ ? dsf.data() : dx.data();  // the "residual" readout: the gradient goes into X
        for (std::size_t t = 0; t < T; ++t)
            for (std::size_t i = 0; i < rows * D; ++i) ds[t * rows * D + i] = dreadout[i] / static_cast<float>(T);
        if (final_sn_) final_sn_->backward(dx.data(), dsf.data());
    } else {
        layernorm_backward(dx.data(), dnorm_g_.data(), dnorm_b_.data(), dreadout, acts_[cfg_.L].data(),
                           norm_mean_.data(), norm_rstd_.data(), norm_g_.data(), rows, D);
    }
    for (std::size_t l = cfg_.L; l-- > 0;) {
        if (l < dresidual_.size() && !dresidual_[l].empty())  // dx is the gradient of block l's output
            for (std::size_t i = 0; i < dx.size(); ++i) dx[i] += dresidual_[l][i];
        if (cfg_.spiking)
            blocks_[l]->backward(dprev.data(), dx.data());
        else
            ann_blocks_[l]->backward(dprev.data(), dx.data());
        std::swap(dx, dprev);
    }
    dresidual_.clear();
    const seq_shape shape{T, B_, N_};
    for (std::size_t t = 0; t < T; ++t)
        for (std::size_t b = 0; b < B_; ++b)
            for (std::size_t n = 0; n < N_; ++n) {
                const float* g = dx.data() + shape.row(t, b, n) * D;
                float* de = dtok_.data() + static_cast<std::size_t>(tokens_[b * N_ + n]) * D;
                float* dp = dpos_.data() + n * D;
                for (std::size_t c = 0; c < D; ++c) {
                    de[c] += g[c];
                    dp[c] += g[c];
                }
            }
}

void language_model::add_residual_grad(std::size_t l, const float* d) {
    if (l >= cfg_.L) throw internal_error("language_model: no block " + std::to_string(l));
    const std::size_t n = cfg_.T * B_ * N_ * cfg_.D;
    dresidual_.resize(cfg_.L);
    dresidual_[l].resize(n, 0.0f);
    for (std::size_t i = 0; i < n; ++i) dresidual_[l][i] += d[i];
}

std::vector<param_ref> language_model::parameters() {
    std::vector<param_ref> all{{"embed.tok.weight", &tok_, &dtok_}, {"embed.pos.weight", &pos_, &dpos_}};
    for (auto& b : blocks_)
        for (auto& p : b->parameters()) all.push_back(p);
    for (auto& b : ann_blocks_)
        for (auto& p : b->parameters()) all.push_back(p);
    if (final_sn_)
        for (auto& p : final_sn_->parameters()) all.push_back(p);
    if (!cfg_.spiking) {
        all.push_back({"final_norm.weight", &norm_g_, &dnorm_g_});
        all.push_back({"final_norm.bias", &norm_b_, &dnorm_b_});
    }
    all.push_back({"head.weight", &head_w_, &dhead_w_});
    all.push_back({"head.bias", &head_b_, &dhead_b_});
    if (!cfg_.task.empty()) {
        all.push_back({"task." + cfg_.task + ".weight", &task_w_, &dtask_w_});
        all.push_back({"task." + cfg_.task + ".bias", &task_b_, &dtask_b_});
    }
    return all;
}

std::vector<param_ref> language_model::buffers() {
    std::vector<param_ref> all;
    for (auto& b : blocks_)
        for (auto& p : b->buffers()) all.push_back(p);
    return all;
}

void language_model::zero_grad() {
    for (auto& p : parameters()) p.grad->fill(0.0f);
}

op_counts language_model::counts() const {
    const std::uint64_t D = cfg_.D, V = cfg_.vocab, T = cfg_.T;
    std::uint64_t tokens = 0;
    for (std::size_t i = 0; i < B_ * N_; ++i) tokens += (mask_.empty() || mask_[i]) ? 1 : 0;
    op_counts ops;
    ops.add(op_class::ac, tokens * D);  // the position add, once per token (not per step)
    // The head used last: the LM head (V outputs, bias per token) or the task head (C outputs; a sequence
    // readout pools first, so its bias is added once per sequence).
    const bool pooled = task_head_used_ && cfg_.task_readout == "sequence";
    const std::uint64_t outs = task_head_used_ ? cfg_.task_outputs : V;
    const std::uint64_t bias_rows = pooled ? B_ : tokens;
    if (cfg_.spiking) {
        for (const auto& b : blocks_) ops += b->counts();
        if (final_sn_) {
            const auto valid = row_validity(seq_shape{T, B_, N_}, mask_);
            ops += final_sn_->counts(valid.data(), D);
            ops.add(op_class::ac, final_sn_->events(valid.data(), D) * outs);  // events x outs
        } else {  // "residual": sum_t X (T x D AC per token), then D x outs MAC per token (1/T folded)
            ops.add(op_class::ac, tokens * T * D);
            ops.add(op_class::mac, tokens * D * outs);
        }
        ops.add(op_class::ac, bias_rows * outs);  // the bias
    } else {
        for (const auto& b : ann_blocks_) ops += b->counts();
        ops += ann_head_counts(D, outs, tokens, B_, pooled);
    }
    return ops;
}

std::vector<block_spikes> language_model::block_spike_counts() const {
    std::vector<block_spikes> out;
    for (const auto& b : blocks_) out.push_back(b->spikes());
    return out;
}

std::uint64_t language_model::final_spike_count() const {
    if (!final_sn_) return 0;
    const auto valid = row_validity(seq_shape{cfg_.T, B_, N_}, mask_);
    return final_sn_->events(valid.data(), cfg_.D);
}

std::vector<double> language_model::no_winner_fractions() const {
    std::vector<double> out;
    for (const auto& b : blocks_) out.push_back(b->no_winner_fraction());
    return out;
}

std::vector<double> language_model::firing_rates() const {
    std::vector<double> rates;
    const auto valid = row_validity(seq_shape{cfg_.T, B_, N_}, mask_);
    std::uint64_t real_rows = 0;
    for (auto v : valid) real_rows += v;
    for (const auto& b : blocks_) {
        const block_spikes s = b->spikes();
        const double events = double(s.s1 + s.q + s.k + s.v + s.z + s.s2 + s.h);
        rates.push_back(events / double(real_rows * (6 * cfg_.D + cfg_.F)));
    }
    return rates;
}

checkpoint weights_checkpoint(language_model& m) {
    checkpoint c;
    c.config = m.config().to_json();
    for (auto& p : m.parameters()) c.params.emplace(p.name, *p.value);
    for (auto& b : m.buffers()) c.buffers.emplace(b.name, *b.value);
    return c;
}

}  // namespace wtasim
