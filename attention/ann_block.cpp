// The ANN twin block (attention/ann_block.hpp).
#include "attention/ann_block.hpp"

#include <cmath>
#include <numbers>

#include "attention/linear.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"

namespace wtasim {

void layernorm_forward(float* y, float* mean, float* rstd, const float* x, const float* g, const float* b,
                       std::size_t rows, std::size_t C) {
    parallel_for(rows, 16, [&](std::size_t rb, std::size_t re) {
        for (std::size_t r = rb; r < re; ++r) {
            const float* xr = x + r * C;
            double m = 0, v = 0;
            for (std::size_t c = 0; c < C; ++c) m += xr[c];
            m /= double(C);
            for (std::size_t c = 0; c < C; ++c) v += (xr[c] - m) * (xr[c] - m);
            v /= double(C);
            mean[r] = static_cast<float>(m);
            rstd[r] = static_cast<float>(1.0 / std::sqrt(v + 1e-5));
            for (std::size_t c = 0; c < C; ++c) y[r * C + c] = (xr[c] - mean[r]) * rstd[r] * g[c] + b[c];
        }
    });
}

void layernorm_backward(float* dx, float* dg, float* db, const float* dy, const float* x, const float* mean,
                        const float* rstd, const float* g, std::size_t rows, std::size_t C) {
    // dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dxhat = dy g
    parallel_for(rows, 16, [&](std::size_t rb, std::size_t re) {
        for (std::size_t r = rb; r < re; ++r) {
            double s1 = 0, s2 = 0;
            for (std::size_t c = 0; c < C; ++c) {
                const double xhat = (x[r * C + c] - mean[r]) * rstd[r], dxhat = double(dy[r * C + c]) * g[c];
                s1 += dxhat;
                s2 += dxhat * xhat;
            }
            s1 /= double(C);
            s2 /= double(C);
            for (std::size_t c = 0; c < C; ++c) {
                const double xhat = (x[r * C + c] - mean[r]) * rstd[r], dxhat = double(dy[r * C + c]) * g[c];
                dx[r * C + c] = static_cast<float>(rstd[r] * (dxhat - s1 - xhat * s2));
            }
        }
    });
    // parameter gradients: per channel over rows in order (deterministic)
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < C; ++c) {
            dg[c] += dy[r * C + c] * (x[r * C + c] - mean[r]) * rstd[r];
            db[c] += dy[r * C + c];
        }
}

void gelu_forward(float* y, const float* x, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        y[i] = static_cast<float>(0.5 * x[i] * (1.0 + std::erf(x[i] / std::numbers::sqrt2)));
}

void gelu_backward(float* dx, const float* dy, const float* x, std::size_t n) {
    const double inv_sqrt_2pi = 1.0 / std::sqrt(2.0 * std::numbers::pi);
    for (std::size_t i = 0; i < n; ++i) {
        const double v = x[i];
        const double cdf = 0.5 * (1.0 + std::erf(v / std::numbers::sqrt2)), pdf = inv_sqrt_2pi * std::exp(-0.5 * v * v);
        dx[i] = static_cast<float>(dy[i] * (cdf + v * pdf));
    }
}

void ann_block_config::validate() const {
    if (D == 0 || H == 0 || F == 0 || D % H != 0)
        throw config_error("ann block: D = " + std::to_string(D) + ", H = " + std::to_string(H) +
                           ", F = " + std::to_string(F) + "; all >= 1 and D a multiple of H");
}

ann_block::ann_block(const ann_block_config& cfg, const std::string& prefix) : cfg_(cfg) {
    cfg_.validate();
    auto make_dense = [&](const std::string& name, std::size_t in, std::size_t out) {
        return dense{
            prefix + name,       in, out, tensor<float>({out, in}), tensor<float>({out}), tensor<float>({out, in}),
            tensor<float>({out})};
    };
    q_ = make_dense("attn.q", cfg.D, cfg.D);
    k_ = make_dense("attn.k", cfg.D, cfg.D);
    v_ = make_dense("attn.v", cfg.D, cfg.D);
    o_ = make_dense("attn.o", cfg.D, cfg.D);
    fc1_ = make_dense("mlp.fc1", cfg.D, cfg.F);
    fc2_ = make_dense("mlp.fc2", cfg.F, cfg.D);
    auto make_norm = [&](const std::string& name) {
        return norm{prefix + name, tensor<float>({cfg.D}, 1.0f), tensor<float>({cfg.D}), tensor<float>({cfg.D}),
                    tensor<float>({cfg.D})};
    };
    ln1_ = make_norm("ln1");
    ln2_ = make_norm("ln2");
}

void ann_block::init(const counter_rng& rng, std::uint64_t stream) {
    std::uint64_t s = stream;
    for (dense* l : {&q_, &k_, &v_, &o_, &fc1_, &fc2_}) {
        const float bound = 1.0f / std::sqrt(static_cast<float>(l->in));
        rng.fill_uniform(l->w.data(), l->w.size(), s++, 0, -bound, bound);
        l->b.fill(0.0f);
    }
}

void ann_block::linear(const dense& l, float* y, const float* x, std::size_t rows) const {
    cpu::linear_forward_dense(y, x, l.w.data(), rows, l.in, l.out);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t o = 0; o < l.out; ++o) y[r * l.out + o] += l.b.data()[o];
}

void ann_block::linear_back(dense& l, float* dx, const float* dy, const float* x, std::size_t rows) {
    cpu::linear_backward_weight_dense(l.dw.data(), dy, x, rows, l.in, l.out);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t o = 0; o < l.out; ++o) l.db.data()[o] += dy[r * l.out + o];
    cpu::linear_backward_input(dx, dy, l.w.data(), rows, l.in, l.out);
}

void ann_block::forward(float* y, const float* x, std::size_t B, std::size_t N,
                        const std::vector<std::uint8_t>& token_mask) {
    const std::size_t D = cfg_.D, F = cfg_.F, rows = B * N;
    B_ = B;
    N_ = N;
    mask_ = token_mask;
    x_.assign(x, x + rows * D);
    for (auto* v : {&l1_, &q_s_, &k_s_, &v_s_, &att_, &a_, &l2_}) v->resize(rows * D);
    for (auto* v : {&mean1_, &rstd1_, &mean2_, &rstd2_}) v->resize(rows);
    h_.resize(rows * F);
    g_.resize(rows * F);
    layernorm_forward(l1_.data(), mean1_.data(), rstd1_.data(), x, ln1_.g.data(), ln1_.b.data(), rows, D);
    linear(q_, q_s_.data(), l1_.data(), rows);
    linear(k_, k_s_.data(), l1_.data(), rows);
    linear(v_, v_s_.data(), l1_.data(), rows);
    attention_config ac;
    ac.kind = attention_kind::softmax;
    ac.causal = cfg_.causal;
    const attention_dims dims{seq_shape{1, B, N}, cfg_.H, D / cfg_.H, mask_.empty() ? nullptr : mask_.data()};
    cpu::real_attention_forward(att_.data(), q_s_.data(), k_s_.data(), v_s_.data(), dims, ac);
    linear(o_, a_.data(), att_.data(), rows);
    for (std::size_t i = 0; i < rows * D; ++i) a_[i] += x[i];
    layernorm_forward(l2_.data(), mean2_.data(), rstd2_.data(), a_.data(), ln2_.g.data(), ln2_.b.data(), rows, D);
    linear(fc1_, h_.data(), l2_.data(), rows);
    gelu_forward(g_.data(), h_.data(), rows * F);
    linear(fc2_, y, g_.data(), rows);
    for (std::size_t i = 0; i < rows * D; ++i) y[i] += a_[i];
}

void ann_block::backward(float* dx, const float* dy) {
    const std::size_t D = cfg_.D, F = cfg_.F, rows = B_ * N_;
    std::vector<float> dg(rows * F), dh(rows * F), dl2(rows * D), da(dy, dy + rows * D), tmp(rows * D);
    linear_back(fc2_, dg.data(), dy, g_.data(), rows);
    gelu_backward(dh.data(), dg.data(), h_.data(), rows * F);
    linear_back(fc1_, dl2.data(), dh.data(), l2_.data(), rows);
    layernorm_backward(tmp.data(), ln2_.dg.data(), ln2_.db.data(), dl2.data(), a_.data(), mean2_.data(), rstd2_.data(),
                       ln2_.g.data(), rows, D);
    for (std::size_t i = 0; i < rows * D; ++i) da[i] += tmp[i];
    std::vector<float> datt(rows * D), dq(rows * D), dk(rows * D), dv(rows * D), dl1(rows * D);
    linear_back(o_, datt.data(), da.data(), att_.data(), rows);
    attention_config ac;
    ac.kind = attention_kind::softmax;
    ac.causal = cfg_.causal;
    const attention_dims dims{seq_shape{1, B_, N_}, cfg_.H, D / cfg_.H, mask_.empty() ? nullptr : mask_.data()};
    cpu::real_attention_backward(dq.data(), dk.data(), dv.data(), datt.data(), q_s_.data(), k_s_.data(), v_s_.data(),
                                 dims, ac);
    linear_back(q_, dl1.data(), dq.data(), l1_.data(), rows);
    linear_back(k_, tmp.data(), dk.data(), l1_.data(), rows);
    for (std::size_t i = 0; i < rows * D; ++i) dl1[i] += tmp[i];
    linear_back(v_, tmp.data(), dv.data(), l1_.data(), rows);
    for (std::size_t i = 0; i < rows * D; ++i) dl1[i] += tmp[i];
    layernorm_backward(dx, ln1_.dg.data(), ln1_.db.data(), dl1.data(), x_.data(), mean1_.data(), rstd1_.data(),
                       ln1_.g.data(), rows, D);
    for (std::size_t i = 0; i < rows * D; ++i) dx[i] += da[i];
}

op_counts ann_block::counts() const {
    std::uint64_t tokens = 0, pairs = 0;  // real tokens; sum over real queries of |C_i|
    for (std::size_t b = 0; b < B_; ++b)
        for (std::size_t i = 0; i < N_; ++i) {
            if (!mask_.empty() && !mask_[b * N_ + i]) continue;
            ++tokens;
            const std::size_t end = cfg_.causal ? i + 1 : N_;
            for (std::size_t j = 0; j < end; ++j) pairs += (mask_.empty() || mask_[b * N_ + j]) ? 1 : 0;
        }
    return ann_block_counts(cfg_, tokens, pairs);
}

op_counts ann_block_counts(const ann_block_config& cfg, std::uint64_t tokens, std::uint64_t pairs) {
    const std::uint64_t D = cfg.D, F = cfg.F, dh = D / cfg.H;
    op_counts ops;
    ops.add(op_class::mac, tokens * (4 * D * D + 2 * D * F));  // q, k, v, o, fc1, fc2
    ops.add(op_class::ac, tokens * (4 * D + F + D));           // their bias adds
    ops.add(op_class::mac, 2 * pairs * dh * cfg.H);            // Q K^T and A V
    ops.add(op_class::exp, pairs * cfg.H);
    ops.add(op_class::div, pairs * cfg.H);
    ops.add(op_class::ac, 2 * tokens * D);       // residuals
    ops.add(op_class::mac, 2 * tokens * 4 * D);  // two LayerNorms
    ops.add(op_class::div, 2 * tokens);
    ops.add(op_class::exp, tokens * F);  // GELU
    ops.add(op_class::mac, tokens * 4 * F);
    return ops;
}

op_counts ann_head_counts(std::uint64_t D, std::uint64_t outputs, std::uint64_t tokens, std::uint64_t sequences,
                          bool pooled) {
    op_counts ops;
    ops.add(op_class::mac, tokens * 4 * D);  // final LayerNorm
    ops.add(op_class::div, tokens);
    if (pooled) {
        ops.add(op_class::ac, tokens * D);  // the sum over tokens, then one scale per feature
        ops.add(op_class::mac, sequences * (D + D * outputs));
    } else {
        ops.add(op_class::mac, tokens * D * outputs);
    }
    ops.add(op_class::ac, (pooled ? sequences : tokens) * outputs);  // the bias, once per output row
    return ops;
}

std::vector<param_ref> ann_block::parameters() {
    std::vector<param_ref> all{{ln1_.name + ".weight", &ln1_.g, &ln1_.dg}, {ln1_.name + ".bias", &ln1_.b, &ln1_.db}};
    for (dense* l : {&q_, &k_, &v_, &o_}) {
        all.push_back({l->name + ".weight", &l->w, &l->dw});
        all.push_back({l->name + ".bias", &l->b, &l->db});
    }
    all.push_back({ln2_.name + ".weight", &ln2_.g, &ln2_.dg});
    all.push_back({ln2_.name + ".bias", &ln2_.b, &ln2_.db});
    for (dense* l : {&fc1_, &fc2_}) {
        all.push_back({l->name + ".weight", &l->w, &l->dw});
        all.push_back({l->name + ".bias", &l->b, &l->db});
    }
    return all;
}

void ann_block::zero_grad() {
    for (auto& p : parameters()) p.grad->fill(0.0f);
}

}  // namespace wtasim
