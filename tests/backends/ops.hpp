// The ops of the consistency harness: each runs one op (forward, then backward on the forward's own
// saved state) on the backend of a family's registry and returns every output and count it produced.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "attention/backend.hpp"
#include "attention/batchnorm.hpp"
#include "attention/block.hpp"
#include "common/relaxed_lif.hpp"
#include "core/rng.hpp"
#include "harness.hpp"
#include "neurons/backend.hpp"

namespace wtasim::test {

inline std::vector<float> normal_vector(std::size_t n, std::uint64_t seed, std::uint64_t stream, float mean,
                                        float stddev) {
    std::vector<float> v(n);
    counter_rng(seed).fill_normal(v.data(), n, stream, 0, mean, stddev);
    return v;
}

// 0/1 spikes with probability p, deterministic in (seed, stream).
inline std::vector<float> spike_vector(std::size_t n, float p, std::uint64_t seed, std::uint64_t stream) {
    std::vector<float> v(n);
    counter_rng rng(seed);
    for (std::size_t i = 0; i < n; ++i) v[i] = rng.uniform(stream, i) < p ? 1.0f : 0.0f;
    return v;
}

inline std::vector<std::int64_t> as_counts(const std::vector<std::int32_t>& v) {
    return {v.begin(), v.end()};
}

// LIF forward on x [T, n], backward of ds through the backend's own saved s and h.
inline op_outputs run_lif(const std::string& backend, const lif_params& p, const std::vector<float>& x,
                          const std::vector<float>& ds, std::size_t T) {
    const neuron_backend& b = neuron_backend_named(backend);
    REQUIRE(b.supports_lif());
    const std::size_t n = x.size() / T;
    std::vector<float> s(x.size()), h(x.size()), dx(x.size());
    op_counts ops;
    const auto spikes = b.lif_forward(s.data(), h.data(), x.data(), T, n, p, &ops, {});
    b.lif_backward(dx.data(), ds.data(), s.data(), h.data(), T, n, p, {}, nullptr, nullptr);
    op_outputs out;
    out.add("s", s);
    out.add("h", h);
    out.add("dx", dx);
    out.add_counts("spikes", {static_cast<std::int64_t>(spikes)});
    out.add_ops("ops", ops);
    return out;
}

// The same with per-channel constants (tau [C] and/or v_th [C], either may be empty), the backward also
// returning the per-neuron parameter-gradient sums dtau, dv_th [n].
inline op_outputs run_lif_channels(const std::string& backend, const lif_params& p, const std::vector<float>& tau,
                                   const std::vector<float>& v_th, std::size_t C, const std::vector<float>& x,
                                   const std::vector<float>& ds, std::size_t T) {
    const neuron_backend& b = neuron_backend_named(backend);
    REQUIRE(b.supports_lif());
    const std::size_t n = x.size() / T;
    const lif_channels ch{tau.empty() ? nullptr : tau.data(), v_th.empty() ? nullptr : v_th.data(), C};
    std::vector<float> s(x.size()), h(x.size()), dx(x.size()), dtau(n), dv_th(n);
    op_counts ops;
    const auto spikes = b.lif_forward(s.data(), h.data(), x.data(), T, n, p, &ops, ch);
    b.lif_backward(dx.data(), ds.data(), s.data(), h.data(), T, n, p, ch, dtau.data(), dv_th.data());
    op_outputs out;
    out.add("s", s);
    out.add("h", h);
    out.add("dx", dx);
    out.add("dtau", dtau);
    out.add("dv_th", dv_th);
    out.add_counts("spikes", {static_cast<std::int64_t>(spikes)});
    out.add_ops("ops", ops);
    return out;
}

// Grad cases of LIF with learned constants: dL/dtau and dL/dv_th per channel (sums of the reference backward's
// per-neuron sums) against the relaxed forward, for both resets and decay forms, reset detached or not.
inline std::vector<grad_case> lif_channel_grad_cases() {
    std::vector<grad_case> g;
    auto as_double = [](const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); };
    auto as_float = [](const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); };
    for (int form = 0; form < 8; ++form) {
        lif_params p;
        p.decay_input = form & 1;
        p.reset = form & 2 ? reset_mode::soft : reset_mode::hard;
        p.detach_reset = form & 4;
        p.v_reset = p.reset == reset_mode::hard ? -0.25f : 0.0f;
        constexpr std::size_t T = 4, C = 3, n = 9;
        const auto lx = as_double(normal_vector(T * n, 43, form, p.decay_input ? 1.6f : 0.7f, 0.8f));
        const auto lw = as_double(normal_vector(T * n, 44, form, 0.0f, 1.0f));
        const std::vector<double> consts{1.7, 2.4, 3.1, 0.8, 1.0, 1.3};  // tau [C], then v_th [C]
        const auto split = [](const std::vector<double>& c) {
            return std::pair{std::vector<double>(c.begin(), c.begin() + C),
                             std::vector<double>(c.begin() + C, c.end())};
        };
        const auto [tau0, v_th0] = split(consts);
        const auto frozen =
            std::make_shared<const std::vector<double>>(relaxed_lif(lx, T, C, tau0, v_th0, p, nullptr).s);
        g.push_back({std::string("lif per-channel constants: dtau, dv_th (form ") + std::to_string(form) + ")", 1e-5,
                     5e-4, consts,
                     [=](const std::vector<double>& cs) {
                         const auto [tau, v_th] = split(cs);
                         const auto r = relaxed_lif(lx, T, C, tau, v_th, p, p.detach_reset ? frozen.get() : nullptr);
                         double l = 0.0;
                         for (std::size_t k = 0; k < r.s.size(); ++k) l += r.s[k] * lw[k];
                         return l;
                     },
                     [=](const std::vector<double>& cs) {
                         const auto [tau, v_th] = split(cs);
                         const auto r = relaxed_lif(lx, T, C, tau, v_th, p, nullptr);
                         const auto s = as_float(r.s), h = as_float(r.h), ds = as_float(lw), tf = as_float(tau),
                                    vf = as_float(v_th);
                         std::vector<float> dx(T * n), dtau(n), dv_th(n), out(2 * C, 0.0f);
                         neuron_backend_named("reference")
                             .lif_backward(dx.data(), ds.data(), s.data(), h.data(), T, n, p, {tf.data(), vf.data(), C},
                                           dtau.data(), dv_th.data());
                         for (std::size_t i = 0; i < n; ++i) out[i % C] += dtau[i], out[C + i % C] += dv_th[i];
                         return out;
                     }});
    }
    return g;
}

inline op_outputs run_nilif(const std::string& backend, const nilif_params& p, const std::vector<float>& x,
                            const std::vector<float>& ds, std::size_t T) {
    const neuron_backend& b = neuron_backend_named(backend);
    REQUIRE(b.supports_nilif());
    const std::size_t n = x.size() / T;
    std::vector<float> s(x.size()), u(x.size()), dx(x.size());
    op_counts ops;
    const auto events = b.nilif_forward(s.data(), u.data(), x.data(), T, n, p, &ops);
    b.nilif_backward(dx.data(), ds.data(), u.data(), T, n, p);
    op_outputs out;
    out.add("s", s);
    out.add("u", u);
    out.add("dx", dx);
    out.add_counts("events", {static_cast<std::int64_t>(events)});
    out.add_ops("ops", ops);
    return out;
}

struct attention_inputs {
    seq_shape shape;
    std::size_t H, dh;
    std::vector<std::uint8_t> mask;  // [B, N]; empty: no padding
    std::vector<float> q, k, v, d_o;

    attention_dims dims() const { return {shape, H, dh, mask.empty() ? nullptr : mask.data()}; }
    std::size_t size() const { return shape.rows() * H * dh; }
};

// Spike attention forward and backward; winners and the op counts (from the backend's winners) exact.
inline op_outputs run_attention(const std::string& backend, const attention_config& cfg, const attention_inputs& in) {
    const attention_backend& b = attention_backend_named(backend);
    const attention_dims d = in.dims();
    const std::size_t n = in.size(), nw = d.shape.T * d.shape.B * d.H * d.shape.N * static_cast<std::size_t>(cfg.k);
    std::vector<float> o(n), dq(n), dk(n), dv(n);
    std::vector<std::int32_t> w(nw, -7);
    b.forward(o.data(), w.data(), in.q.data(), in.k.data(), in.v.data(), d, cfg);
    b.backward(dq.data(), dk.data(), dv.data(), in.d_o.data(), in.q.data(), in.k.data(), in.v.data(), w.data(), d, cfg);
    op_outputs out;
    out.add("o", o);
    out.add("dq", dq);
    out.add("dk", dk);
    out.add("dv", dv);
    out.add_counts("winners", as_counts(w));
    out.add_ops("ops", attention_counts(in.q.data(), in.k.data(), in.v.data(), w.data(), d, cfg));
    return out;
}

// Softmax attention on real-valued Q, K, V (the ANN twin's path).
inline op_outputs run_real_attention(const std::string& backend, const attention_config& cfg,
                                     const attention_inputs& in) {
    const attention_backend& b = attention_backend_named(backend);
    const attention_dims d = in.dims();
    const std::size_t n = in.size();
    std::vector<float> o(n), dq(n), dk(n), dv(n);
    b.real_forward(o.data(), in.q.data(), in.k.data(), in.v.data(), d, cfg);
    b.real_backward(dq.data(), dk.data(), dv.data(), in.d_o.data(), in.q.data(), in.k.data(), in.v.data(), d, cfg);
    op_outputs out;
    out.add("o", o);
    out.add("dq", dq);
    out.add("dk", dk);
    out.add("dv", dv);
    return out;
}

struct linear_inputs {
    std::size_t rows, in, out;
    int levels;  // spike inputs: values m / levels; 0: real-valued input (dense kernels)
    std::vector<float> x, w, dy;
};

// Spike input: forward from W^T, dW over active inputs (accumulated onto 0.5), dx = dy W.
inline op_outputs run_linear_spikes(const std::string& backend, const linear_inputs& li) {
    const linear_backend& b = linear_backend_named(backend);
    std::vector<float> wt(li.in * li.out), y(li.rows * li.out), dw(li.out * li.in, 0.5f), dx(li.rows * li.in);
    transpose(wt.data(), li.w.data(), li.out, li.in);
    const auto events = b.forward_spikes(y.data(), li.x.data(), wt.data(), li.rows, li.in, li.out, li.levels);
    b.backward_weight_spikes(dw.data(), li.dy.data(), li.x.data(), li.rows, li.in, li.out);
    b.backward_input(dx.data(), li.dy.data(), li.w.data(), li.rows, li.in, li.out);
    op_outputs out;
    out.add("y", y);
    out.add("dw", dw);
    out.add("dx", dx);
    out.add_counts("events", {static_cast<std::int64_t>(events)});
    return out;
}

inline op_outputs run_linear_dense(const std::string& backend, const linear_inputs& li) {
    const linear_backend& b = linear_backend_named(backend);
    std::vector<float> y(li.rows * li.out), dw(li.out * li.in, 0.0f), dx(li.rows * li.in);
    b.forward_dense(y.data(), li.x.data(), li.w.data(), li.rows, li.in, li.out);
    b.backward_weight_dense(dw.data(), li.dy.data(), li.x.data(), li.rows, li.in, li.out);
    b.backward_input(dx.data(), li.dy.data(), li.w.data(), li.rows, li.in, li.out);
    op_outputs out;
    out.add("y", y);
    out.add("dw", dw);
    out.add("dx", dx);
    return out;
}

struct batchnorm_inputs {
    std::size_t rows, C;
    std::vector<std::uint8_t> valid;           // [rows]; empty: every row is real
    std::vector<float> x, gamma, beta, dy, w;  // w [C, in = 3]: the weight the fold is applied to
};

// Training forward (statistics, running statistics), backward, then evaluation forward and fold with the
// updated running statistics.
inline op_outputs run_batchnorm(const std::string& backend, const batchnorm_inputs& bi) {
    REQUIRE(backend == "reference");  // one implementation for every backend
    const std::size_t n = bi.rows * bi.C, C = bi.C;
    const std::uint8_t* valid = bi.valid.empty() ? nullptr : bi.valid.data();
    std::vector<float> y(n), mean(C), rstd(C), rm(C, 0.0f), rv(C, 1.0f), dx(n), dgamma(C, 0.0f), dbeta(C, 0.0f),
        y_eval(n), w_folded(bi.w.size()), bias(C);
    batchnorm_forward_train(y.data(), mean.data(), rstd.data(), rm.data(), rv.data(), bi.x.data(), bi.gamma.data(),
                            bi.beta.data(), valid, bi.rows, C);
    batchnorm_backward(dx.data(), dgamma.data(), dbeta.data(), bi.dy.data(), bi.x.data(), mean.data(), rstd.data(),
                       bi.gamma.data(), valid, bi.rows, C);
    batchnorm_forward_eval(y_eval.data(), bi.x.data(), bi.gamma.data(), bi.beta.data(), rm.data(), rv.data(), bi.rows,
                           C);
    batchnorm_fold(w_folded.data(), bias.data(), bi.w.data(), bi.gamma.data(), bi.beta.data(), rm.data(), rv.data(), C,
                   bi.w.size() / C);
    op_outputs out;
    using named = std::pair<const char*, const std::vector<float>*>;
    for (const auto& [name, v] :
         {named{"y", &y}, named{"mean", &mean}, named{"rstd", &rstd}, named{"running_mean", &rm},
          named{"running_var", &rv}, named{"dx", &dx}, named{"dgamma", &dgamma}, named{"dbeta", &dbeta},
          named{"y_eval", &y_eval}, named{"w_folded", &w_folded}, named{"bias", &bias}})
        out.add(name, *v);
    return out;
}

// running-rms (docs/model.md §10): training forward from a given running mean square, the frozen-statistics
// backward, then the evaluation forward and the fold with the updated mean square (mean 0).
inline op_outputs run_rmsnorm(const std::string& backend, const batchnorm_inputs& bi) {
    REQUIRE(backend == "reference");  // one implementation for every backend
    const std::size_t n = bi.rows * bi.C, C = bi.C;
    const std::uint8_t* valid = bi.valid.empty() ? nullptr : bi.valid.data();
    std::vector<float> y(n), rstd(C), ms(C), zero(C, 0.0f), dx(n), dgamma(C, 0.0f), dbeta(C, 0.0f), y_eval(n),
        w_folded(bi.w.size()), bias(C);
    for (std::size_t c = 0; c < C; ++c) ms[c] = 0.25f + 0.5f * float(c % 5);
    rmsnorm_forward_train(y.data(), rstd.data(), ms.data(), bi.x.data(), bi.gamma.data(), bi.beta.data(), valid,
                          bi.rows, C);
    batchnorm_backward_frozen(dx.data(), dgamma.data(), dbeta.data(), bi.dy.data(), bi.x.data(), nullptr, rstd.data(),
                              bi.gamma.data(), bi.rows, C);
    batchnorm_forward_eval(y_eval.data(), bi.x.data(), bi.gamma.data(), bi.beta.data(), zero.data(), ms.data(), bi.rows,
                           C);
    batchnorm_fold(w_folded.data(), bias.data(), bi.w.data(), bi.gamma.data(), bi.beta.data(), zero.data(), ms.data(),
                   C, bi.w.size() / C);
    op_outputs out;
    using named = std::pair<const char*, const std::vector<float>*>;
    for (const auto& [name, v] :
         {named{"y", &y}, named{"rstd", &rstd}, named{"running_ms", &ms}, named{"dx", &dx}, named{"dgamma", &dgamma},
          named{"dbeta", &dbeta}, named{"y_eval", &y_eval}, named{"w_folded", &w_folded}, named{"bias", &bias}})
        out.add(name, *v);
    return out;
}

struct block_inputs {
    seq_shape shape;
    std::vector<std::uint8_t> mask;
    std::vector<float> x, dy;
    std::uint64_t init_seed;
};

// The whole spiking block: training forward, backward; y, dx, every parameter gradient (concatenated in
// parameter order), the BN running statistics, per-layer spike counts, op counts and winners.
inline op_outputs run_block(const std::string& backend, block_config cfg, const block_inputs& bi) {
    cfg.backend = backend;
    spiking_block blk(cfg);
    blk.init(counter_rng(bi.init_seed), 0);
    blk.zero_grad();
    std::vector<float> y(bi.x.size()), dx(bi.x.size()), grads, buffers;
    blk.forward(y.data(), bi.x.data(), bi.shape, bi.mask, true);
    blk.backward(dx.data(), bi.dy.data());
    for (auto& p : blk.parameters()) grads.insert(grads.end(), p.grad->begin(), p.grad->end());
    for (auto& p : blk.buffers()) buffers.insert(buffers.end(), p.value->begin(), p.value->end());
    const block_spikes sp = blk.spikes();
    op_outputs out;
    out.add("y", y);
    out.add("dx", dx);
    out.add("parameter gradients", grads);
    out.add("running statistics", buffers);
    out.add_counts("spikes",
                   {static_cast<std::int64_t>(sp.s1), static_cast<std::int64_t>(sp.q), static_cast<std::int64_t>(sp.k),
                    static_cast<std::int64_t>(sp.v), static_cast<std::int64_t>(sp.z), static_cast<std::int64_t>(sp.s2),
                    static_cast<std::int64_t>(sp.h)});
    out.add_ops("ops", blk.counts());
    out.add_counts("winners", as_counts(blk.winners()));
    return out;
}

}  // namespace wtasim::test
