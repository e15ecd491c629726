// The spiking block (attention/block.hpp): layer by layer, keeping every intermediate the backward
// needs; the backward runs the same chain in reverse.
#include "attention/block.hpp"

#include "attention/recency.hpp"

#include <algorithm>

#include "core/allocator.hpp"
#include "core/error.hpp"

namespace wtasim {
namespace {
void add_into(float* a, const float* b, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) a[i] += b[i];
}
}  // namespace

void block_config::validate() const {
    if (D == 0 || H == 0 || F == 0)
        throw config_error("block: D = " + std::to_string(D) + ", H = " + std::to_string(H) +
                           ", F = " + std::to_string(F) + ", all must be >= 1");
    if (D % H != 0)
        throw config_error("block: D = " + std::to_string(D) + " is not a multiple of H = " + std::to_string(H));
    attn.validate();
    lif.validate();
    nilif.validate();
}

spiking_block::spiking_block(const block_config& cfg, const std::string& prefix)
    : cfg_(cfg),
      attn_backend_(&attention_backend_named(cfg.backend)),
      q_(prefix + "attn.q", cfg.D, cfg.D, cfg.norm),
      k_(prefix + "attn.k", cfg.D, cfg.D, cfg.norm),
      v_(prefix + "attn.v", cfg.D, cfg.D, cfg.norm),
      o_(prefix + "attn.o", cfg.D, cfg.D, cfg.norm),
      fc1_(prefix + "mlp.fc1", cfg.D, cfg.F, cfg.norm),
      fc2_(prefix + "mlp.fc2", cfg.F, cfg.D, cfg.norm),
      sn1_(cfg.neuron, role_neuron(cfg, neuron_role::sn1), cfg.nilif, neuron_backend_named(cfg.backend), prefix + "sn1",
           cfg.D, cfg.learn),
      nq_(neuron_kind::lif, role_neuron(cfg, neuron_role::q), cfg.nilif, neuron_backend_named(cfg.backend),
          prefix + "q", cfg.D, cfg.learn),
      nk_(neuron_kind::lif, role_neuron(cfg, neuron_role::k), cfg.nilif, neuron_backend_named(cfg.backend),
          prefix + "k", cfg.D, cfg.learn),
      nv_(neuron_kind::lif, role_neuron(cfg, neuron_role::v), cfg.nilif, neuron_backend_named(cfg.backend),
          prefix + "v", cfg.D, cfg.learn),
      na_(neuron_kind::lif, role_neuron(cfg, neuron_role::a), cfg.nilif, neuron_backend_named(cfg.backend),
          prefix + "a", cfg.D, cfg.learn),
      sn2_(cfg.neuron, role_neuron(cfg, neuron_role::sn2), cfg.nilif, neuron_backend_named(cfg.backend), prefix + "sn2",
           cfg.D, cfg.learn),
      snh_(cfg.neuron, role_neuron(cfg, neuron_role::h), cfg.nilif, neuron_backend_named(cfg.backend), prefix + "h",
           cfg.F, cfg.learn) {
    cfg_.validate();
}

void spiking_block::init(const counter_rng& rng, std::uint64_t stream) {
    std::uint64_t s = stream;
    for (spiking_linear* l : {&q_, &k_, &v_, &o_, &fc1_, &fc2_}) l->init(rng, s++);
}

void spiking_block::forward(float* y, const float* x, const seq_shape& shape,
                            const std::vector<std::uint8_t>& token_mask, bool training) {
    const std::size_t D = cfg_.D, F = cfg_.F, rows = shape.rows(), T = shape.T;
    const std::size_t nd = rows * D / T, nf = rows * F / T;  // neurons per step
    shape_ = shape;
    token_mask_ = token_mask;
    valid_ = row_validity(shape, token_mask);
    const std::uint8_t* valid = valid_.data();
    auto sized = [](std::vector<float>& v, std::size_t n) -> float* {
        v.resize(n);
        return v.data();
    };
    // Values that only pass from one layer to the next (pre-activations, attention output, residual
    // stream) live in per-thread scratch, shared by all blocks; what backward needs stays in the layers.
    float* pre = thread_scratch(0, rows * std::max(D, F));
    float* x1 = thread_scratch(1, rows * D);

    s1_ = sn1_.forward(x, T, nd);
    const int lv = sn1_.levels();
    q_.forward(pre, s1_, rows, valid, training, lv);
    q_s_ = nq_.forward(pre, T, nd);
    k_.forward(pre, s1_, rows, valid, training, lv);
    k_s_ = nk_.forward(pre, T, nd);
    v_.forward(pre, s1_, rows, valid, training, lv);
    v_s_ = nv_.forward(pre, T, nd);

    const attention_dims dims{shape, cfg_.H, D / cfg_.H, token_mask.empty() ? nullptr : token_mask_.data()};
    if (cfg_.attn.shift) {  // the keys and values each token offers (attention/recency.hpp)
        token_shift_forward(sized(k_sh_, rows * D), k_s_, shape, D, dims.token_mask);
        token_shift_forward(sized(v_sh_, rows * D), v_s_, shape, D, dims.token_mask);
    }
    winners_.assign(cfg_.attn.kind == attention_kind::wta ? T * shape.B * cfg_.H * shape.N * cfg_.attn.k : 0, -1);
    attn_backend_->forward(pre, winners_.empty() ? nullptr : winners_.data(), q_s_, keys(), values(), dims, cfg_.attn);
    z_ = na_.forward(pre, T, nd);
    o_.forward(pre, z_, rows, valid, training, 1);

    for (std::size_t i = 0; i < rows * D; ++i) x1[i] = x[i] + pre[i];
    s2_ = sn2_.forward(x1, T, nd);
    fc1_.forward(pre, s2_, rows, valid, training, sn2_.levels());
    hs_ = snh_.forward(pre, T, nf);
    fc2_.forward(pre, hs_, rows, valid, training, snh_.levels());
    for (std::size_t i = 0; i < rows * D; ++i) y[i] = x1[i] + pre[i];
}

void spiking_block::backward(float* dx, const float* dy) {
    const std::size_t D = cfg_.D, F = cfg_.F, rows = shape_.rows(), n = rows * D;
    // every buffer below is written in full by the layer that fills it: scratch, never cleared
    float* dx1 = thread_scratch(0, n);
    float* dh = thread_scratch(1, rows * F);   // of the hidden spikes
    float* dh2 = thread_scratch(2, rows * F);  // of fc1's output
    float* a = thread_scratch(3, n);
    float* b = thread_scratch(4, n);
    std::copy(dy, dy + n, dx1);
    fc2_.backward(dh, dy);
    snh_.backward(dh2, dh);
    fc1_.backward(a, dh2);
    sn2_.backward(b, a);
    add_into(dx1, b, n);

    float* dq = thread_scratch(5, n);
    float* dk = thread_scratch(6, n);
    float* dv = thread_scratch(7, n);
    o_.backward(a, dx1);  // dz
    na_.backward(b, a);   // d_o
    const attention_dims dims{shape_, cfg_.H, D / cfg_.H, token_mask_.empty() ? nullptr : token_mask_.data()};
    attn_backend_->backward(dq, dk, dv, b, q_s_, keys(), values(), winners_.empty() ? nullptr : winners_.data(), dims,
                            cfg_.attn);
    if (cfg_.attn.shift) {
        token_shift_backward(a, dk, k_s_, shape_, D, dims.token_mask);
        std::swap(a, dk);
        token_shift_backward(a, dv, v_s_, shape_, D, dims.token_mask);
        std::swap(a, dv);
    }

    float* ds1 = thread_scratch(8, n);
    nq_.backward(a, dq);
    q_.backward(ds1, a);
    nk_.backward(a, dk);
    k_.backward(b, a);
    add_into(ds1, b, n);
    nv_.backward(a, dv);
    v_.backward(b, a);
    add_into(ds1, b, n);
    sn1_.backward(dx, ds1);
    add_into(dx, dx1, n);
}

double spiking_block::no_winner_fraction() const {
    if (winners_.empty()) return 0.0;
    const std::size_t H = cfg_.H, N = shape_.N, k = static_cast<std::size_t>(cfg_.attn.k);
    std::vector<std::uint8_t> real(shape_.T * shape_.B * H * N, 1);  // the winners' layout [T, B, H, N]
    if (!token_mask_.empty())
        for (std::size_t tb = 0; tb < shape_.T * shape_.B; ++tb)
            for (std::size_t h = 0; h < H; ++h)
                for (std::size_t n = 0; n < N; ++n) real[(tb * H + h) * N + n] = token_mask_[(tb % shape_.B) * N + n];
    return wtasim::no_winner_fraction(winners_.data(), real.size(), k, real.data());
}

op_counts spiking_block::counts() const {
    const std::size_t D = cfg_.D, F = cfg_.F;
    const std::uint8_t* valid = valid_.data();
    op_counts ops;
    for (const neuron_layer* n : {&sn1_, &nq_, &nk_, &nv_, &na_, &sn2_}) ops += n->counts(valid, D);
    ops += snh_.counts(valid, F);
    for (const spiking_linear* l : {&q_, &k_, &v_, &o_, &fc1_, &fc2_}) ops += l->counts();
    std::uint64_t real_rows = 0;
    for (auto v : valid_) real_rows += v;
    ops.add(op_class::ac, 2 * real_rows * D);  // the two residual adds
    return ops + attention_counts();
}

op_counts spiking_block::attention_counts() const {
    const attention_dims dims{shape_, cfg_.H, cfg_.D / cfg_.H, token_mask_.empty() ? nullptr : token_mask_.data()};
    return wtasim::attention_counts(q_s_, keys(), values(), winners_.empty() ? nullptr : winners_.data(), dims,
                                    cfg_.attn);
}

block_spikes spiking_block::spikes(bool real_only) const {
    const std::uint8_t* valid = real_only ? valid_.data() : nullptr;
    const std::size_t D = cfg_.D;
    return {sn1_.events(valid, D), nq_.events(valid, D),  nk_.events(valid, D),      nv_.events(valid, D),
            na_.events(valid, D),  sn2_.events(valid, D), snh_.events(valid, cfg_.F)};
}

std::vector<param_ref> spiking_block::parameters() {
    std::vector<param_ref> all;
    for (spiking_linear* l : {&q_, &k_, &v_, &o_, &fc1_, &fc2_})
        for (auto& p : l->parameters()) all.push_back(p);
    for (neuron_layer* n : {&sn1_, &nq_, &nk_, &nv_, &na_, &sn2_, &snh_})
        for (auto& p : n->parameters()) all.push_back(p);
    return all;
}

std::vector<param_ref> spiking_block::buffers() {
    std::vector<param_ref> all;
    for (spiking_linear* l : {&q_, &k_, &v_, &o_, &fc1_, &fc2_})
        for (auto& p : l->buffers()) all.push_back(p);
    return all;
}

void spiking_block::zero_grad() {
    for (auto& p : parameters()) p.grad->fill(0.0f);
}

}  // namespace wtasim
