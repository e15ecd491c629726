// The one consistency harness (ggml's test-backend-ops; driver in harness.hpp, ops in ops.hpp): the
// list of op cases below runs on every registered backend of its family against the reference, with 1
// and 2 threads. Tolerances are stated per case (relative to max |reference| of that output); an output
// without one must be bit-identical. The grad list checks the reference backward against finite
// differences where the op is smooth. Cuda cases run under the `cuda` label only.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>

#include "harness.hpp"
#include "ops.hpp"

using namespace wtasim;
using namespace wtasim::test;

namespace {
std::string lif_name(const lif_params& p) {
    return std::string("lif decay_input=") + (p.decay_input ? "1" : "0") +
           " reset=" + (p.reset == reset_mode::hard ? "hard" : "soft") + " detach=" + (p.detach_reset ? "1" : "0") +
           " surrogate=" + surrogate_kind_name(p.sg.kind) + "(" + std::to_string(p.sg.alpha) +
           ") tau=" + std::to_string(p.tau) + " v_th=" + std::to_string(p.v_th) +
           " v_reset=" + std::to_string(p.v_reset);
}

void add_neuron_cases(std::vector<op_case>& cases) {
    // n is deliberately not a multiple of the cpu backend's block (512) or grain (4096).
    constexpr std::size_t T = 4, n = 9001;
    auto lx = std::make_shared<const std::vector<float>>(normal_vector(T * n, 99, 0, 1.2f, 1.0f));
    auto lds = std::make_shared<const std::vector<float>>(normal_vector(T * n, 99, 1, 0.0f, 1.0f));
    std::vector<lif_params> lifs;
    for (bool decay_input : {true, false})
        for (reset_mode reset : {reset_mode::hard, reset_mode::soft})
            for (bool detach : {true, false})
                for (surrogate sg : {surrogate::sigmoid(), surrogate::atan()}) {
                    lif_params p;
                    p.decay_input = decay_input;
                    p.reset = reset;
                    p.detach_reset = detach;
                    p.sg = sg;
                    lifs.push_back(p);
                }
    lif_params other;  // a non-zero resting potential, another tau and surrogate slope
    other.tau = 2.5f;
    other.v_reset = -0.25f;
    other.detach_reset = false;
    other.sg = surrogate::sigmoid(1.5f);
    lifs.push_back(other);
    other = lif_params{};
    other.v_th = 0.75f;
    other.reset = reset_mode::soft;
    other.decay_input = false;
    other.sg = surrogate::atan(3.0f);
    lifs.push_back(other);
    for (const lif_params& p : lifs)
        cases.push_back(
            {"neurons", lif_name(p), {}, [=](const std::string& b) { return run_lif(b, p, *lx, *lds, T); }});

    // learned constants: per-channel tau and v_th, or only one of them, on C = 7 channels (n = 1286 rows x 7 =
    // 9002 neurons per step, again not a multiple of the block or the grain); the backward's per-neuron
    // parameter-gradient sums are outputs too
    constexpr std::size_t C = 7, nc = 7 * 1286;
    auto cx = std::make_shared<const std::vector<float>>(normal_vector(T * nc, 98, 0, 1.2f, 1.0f));
    auto cds = std::make_shared<const std::vector<float>>(normal_vector(T * nc, 98, 1, 0.0f, 1.0f));
    const std::vector<float> taus{1.3f, 1.8f, 2.0f, 2.6f, 3.5f, 5.0f, 1.05f},
        v_ths{0.6f, 0.9f, 1.0f, 1.1f, 1.4f, 0.75f, 2.0f};
    for (const lif_params& p : {lifs[0], lifs[3], lifs[9], lifs[14], lifs[16], lifs[17]})
        for (int which : {0, 1, 2}) {  // both, tau only, v_th only
            const std::vector<float> tau = which == 2 ? std::vector<float>{} : taus;
            const std::vector<float> v_th = which == 1 ? std::vector<float>{} : v_ths;
            const char* what = which == 0   ? " per-channel tau, v_th"
                               : which == 1 ? " per-channel tau"
                                            : " per-channel v_th";
            cases.push_back({"neurons", lif_name(p) + what, {}, [=](const std::string& b) {
                                 return run_lif_channels(b, p, tau, v_th, C, *cx, *cds, T);
                             }});
        }

    auto nx = std::make_shared<const std::vector<float>>(normal_vector(T * n, 99, 2, 1.0f, 2.0f));
    auto nds = std::make_shared<const std::vector<float>>(normal_vector(T * n, 99, 3, 0.0f, 1.0f));
    for (nilif_params p : {nilif_params{4, 0.5f}, nilif_params{3, 0.25f}, nilif_params{1, 1.0f}, nilif_params{8, 0.9f},
                           nilif_params{2, 0.0f}})
        cases.push_back({"neurons",
                         "nilif levels=" + std::to_string(p.levels) + " beta=" + std::to_string(p.beta),
                         {},
                         [=](const std::string& b) { return run_nilif(b, p, *nx, *nds, T); }});
}

attention_config attention(attention_kind kind, bool causal, int k = 1) {
    attention_config c;
    c.kind = kind;
    c.causal = causal;
    c.k = k;
    return c;
}

std::string attention_name(const attention_config& c) {
    return std::string(attention_kind_name(c.kind)) + (c.causal ? " causal" : " bidirectional") +
           (c.kind == attention_kind::wta ? " k=" + std::to_string(c.k) : "") +
           (c.bias_len ? std::string(" recency bias") + (c.fill ? " + fill" : "") : "") + (c.shift ? " shift" : "");
}

// WTA with the recency bonus b = [3, 2, 1] (docs/model.md §10), with and without fill.
attention_config biased(bool causal, int k, bool fill) {
    attention_config c = attention(attention_kind::wta, causal, k);
    c.bias = {3.0f, 2.0f, 1.0f};
    c.bias_len = 3;
    c.fill = fill;
    return c;
}

void add_attention_cases(std::vector<op_case>& cases) {
    // Padding in the second sequence; dh > 64 so a popcount head spans two words.
    auto padded = std::make_shared<attention_inputs>();
    padded->shape = {3, 2, 13};
    padded->H = 3;
    padded->dh = 70;
    padded->mask.assign(26, 1);
    std::fill(padded->mask.begin() + 21, padded->mask.end(), 0);
    const std::size_t n = padded->size();
    padded->q = spike_vector(n, 0.1f, 3, 0);
    padded->k = spike_vector(n, 0.1f, 3, 1);
    padded->v = spike_vector(n, 0.3f, 3, 2);
    padded->d_o = normal_vector(n, 3, 3, 0.0f, 1.0f);
    for (bool causal : {false, true}) {
        for (int k : {1, 2, 4}) {
            const auto cfg = attention(attention_kind::wta, causal, k);
            cases.push_back({"attention", attention_name(cfg) + ", padded, dh 70", {}, [=](const std::string& b) {
                                 return run_attention(b, cfg, *padded);
                             }});
        }
        for (attention_kind kind : {attention_kind::ssa, attention_kind::softmax}) {
            const auto cfg = attention(kind, causal);
            cases.push_back({"attention", attention_name(cfg) + ", padded, dh 70", {}, [=](const std::string& b) {
                                 return run_attention(b, cfg, *padded);
                             }});
        }
    }
    // No padding, one full popcount word per head, denser spikes.
    auto full = std::make_shared<attention_inputs>();
    full->shape = {2, 1, 9};
    full->H = 2;
    full->dh = 64;
    const std::size_t m = full->size();
    full->q = spike_vector(m, 0.3f, 5, 0);
    full->k = spike_vector(m, 0.3f, 5, 1);
    full->v = spike_vector(m, 0.5f, 5, 2);
    full->d_o = normal_vector(m, 5, 3, 0.0f, 1.0f);
    for (bool fill : {false, true})
        for (int k : {1, 2}) {
            const auto cfg = biased(fill, k, fill);  // causal with fill, bidirectional without
            cases.push_back({"attention", attention_name(cfg) + ", padded, dh 70", {}, [=](const std::string& b) {
                                 return run_attention(b, cfg, *padded);
                             }});
        }
    for (auto cfg :
         {attention(attention_kind::wta, true, 1), attention(attention_kind::wta, false, 2),
          attention(attention_kind::ssa, true), attention(attention_kind::softmax, false), biased(true, 1, true)})
        cases.push_back({"attention", attention_name(cfg) + ", unpadded, dh 64", {}, [=](const std::string& b) {
                             return run_attention(b, cfg, *full);
                         }});
    // Real-valued Q, K, V through the softmax path of the ANN twin.
    auto real = std::make_shared<attention_inputs>();
    real->shape = {1, 2, 9};
    real->H = 2;
    real->dh = 5;
    real->mask.assign(18, 1);
    std::fill(real->mask.begin() + 14, real->mask.end(), 0);
    const std::size_t r = real->size();
    real->q = normal_vector(r, 31, 0, 0.0f, 1.0f);
    real->k = normal_vector(r, 31, 1, 0.0f, 1.0f);
    real->v = normal_vector(r, 31, 2, 0.0f, 1.0f);
    real->d_o = normal_vector(r, 31, 3, 0.0f, 1.0f);
    for (bool causal : {false, true}) {
        const auto cfg = attention(attention_kind::softmax, causal);
        cases.push_back({"attention", "real-valued " + attention_name(cfg), {}, [=](const std::string& b) {
                             return run_real_attention(b, cfg, *real);
                         }});
    }
}

void add_linear_cases(std::vector<op_case>& cases) {
    // out >= 64 and not a multiple of 64: the cpu spike path's full and partial register tiles.
    for (int levels : {1, 3, 4}) {
        auto li = std::make_shared<linear_inputs>();
        *li = {77,
               45,
               100,
               levels,
               spike_vector(77 * 45, 0.2f, 4, static_cast<std::uint64_t>(levels)),
               normal_vector(100 * 45, 8, 0, 0.0f, 1.0f),
               normal_vector(77 * 100, 8, 1, 0.0f, 1.0f)};
        if (levels > 1)  // NI-LIF levels m / D spread over the inputs
            for (std::size_t i = 0; i < li->x.size(); ++i)
                li->x[i] *= static_cast<float>(1 + (i / 2) % levels) / static_cast<float>(levels);
        auto check = [li](const op_outputs& ref) {
            double expected = 0.0;  // events: the sum of the levels m = x D
            for (float v : li->x) expected += double(v) * li->levels;
            CHECK(ref.counts[0].second[0] == static_cast<std::int64_t>(std::llround(expected)));
        };
        // dx = dy W is BLAS in the cpu backend: float rounding in another summation order.
        cases.push_back({"linear",
                         "spike input, levels " + std::to_string(levels),
                         {{"dx", 1e-5}},
                         [=](const std::string& b) { return run_linear_spikes(b, *li); },
                         check});
    }
    auto dense = std::make_shared<linear_inputs>();
    *dense = {70,
              50,
              40,
              0,
              normal_vector(70 * 50, 8, 2, 0.0f, 1.0f),
              normal_vector(40 * 50, 8, 3, 0.0f, 1.0f),
              normal_vector(70 * 40, 8, 4, 0.0f, 1.0f)};
    cases.push_back({"linear",
                     "real input (BLAS in the cpu backend)",
                     {{"y", 1e-5}, {"dw", 1e-5}, {"dx", 1e-5}},
                     [=](const std::string& b) { return run_linear_dense(b, *dense); }});
}

batchnorm_inputs batchnorm_case(std::size_t rows, std::size_t C, std::size_t padding, std::uint64_t seed) {
    batchnorm_inputs bi{rows, C, {}, {}, {}, {}, {}, {}};
    if (padding > 0) {
        bi.valid.assign(rows, 1);
        std::fill(bi.valid.end() - static_cast<std::ptrdiff_t>(padding), bi.valid.end(), 0);
    }
    bi.x = normal_vector(rows * C, seed, 0, 1.0f, 2.0f);
    bi.gamma = normal_vector(C, seed, 1, 1.0f, 0.5f);
    bi.beta = normal_vector(C, seed, 2, 0.0f, 1.0f);
    bi.dy = normal_vector(rows * C, seed, 3, 0.0f, 1.0f);
    bi.w = normal_vector(C * 3, seed, 4, 0.0f, 1.0f);
    return bi;
}

void add_batchnorm_cases(std::vector<op_case>& cases) {
    // 20 channels: two channel blocks of 16, so the 2-thread run splits them.
    auto masked = std::make_shared<const batchnorm_inputs>(batchnorm_case(50, 20, 5, 12));
    auto plain = std::make_shared<const batchnorm_inputs>(batchnorm_case(33, 40, 0, 13));
    cases.push_back({"batchnorm", "50 rows (5 padding) x 20 channels", {}, [=](const std::string& b) {
                         return run_batchnorm(b, *masked);
                     }});
    cases.push_back(
        {"batchnorm", "33 rows x 40 channels", {}, [=](const std::string& b) { return run_batchnorm(b, *plain); }});
    cases.push_back({"batchnorm", "running-rms, 50 rows (5 padding) x 20 channels", {}, [=](const std::string& b) {
                         return run_rmsnorm(b, *masked);
                     }});
}

void add_block_cases(std::vector<op_case>& cases) {
    auto bi = std::make_shared<block_inputs>();
    bi->shape = {3, 2, 8};
    bi->mask.assign(16, 1);
    bi->mask[15] = 0;
    bi->x = normal_vector(bi->shape.rows() * 16, 21, 4, 1.0f, 1.0f);
    bi->dy = normal_vector(bi->x.size(), 21, 99, 1.0f, 1.0f);
    bi->init_seed = 9;
    for (auto [kind, neuron, causal] : {std::tuple{attention_kind::wta, neuron_kind::nilif, false},
                                        {attention_kind::ssa, neuron_kind::nilif, false},
                                        {attention_kind::softmax, neuron_kind::nilif, false},
                                        {attention_kind::wta, neuron_kind::lif, true},
                                        {attention_kind::ssa, neuron_kind::lif, true},
                                        {attention_kind::softmax, neuron_kind::lif, true},
                                        // the recency options: WTA with the K/V token shift, bias and fill
                                        {attention_kind::wta, neuron_kind::lif, false}}) {
        block_config cfg;
        cfg.D = 16;
        cfg.H = 2;
        cfg.F = 32;
        cfg.neuron = neuron;
        cfg.attn.kind = kind;
        cfg.attn.causal = causal;
        cfg.attn.k = kind == attention_kind::wta ? 2 : 1;
        if (neuron == neuron_kind::lif) cfg.attn.v_th_attn = 0.125f;  // SSA / softmax outputs are small here
        if (kind == attention_kind::wta && neuron == neuron_kind::lif && !causal) {
            cfg.attn.shift = true;
            cfg.attn.bias = {2.0f, 1.0f};
            cfg.attn.bias_len = 2;
            cfg.attn.fill = true;
        }
        cases.push_back({"block",
                         std::string(neuron == neuron_kind::lif ? "lif " : "nilif ") + attention_name(cfg.attn),
                         {},
                         [=](const std::string& b) { return run_block(b, cfg, *bi); }});
    }
    // the normalisations without batch statistics (docs/model.md §10)
    for (auto [norm, neuron] :
         {std::pair{norm_kind::running_rms, neuron_kind::lif}, {norm_kind::none, neuron_kind::nilif}}) {
        block_config cfg;
        cfg.D = 16;
        cfg.H = 2;
        cfg.F = 32;
        cfg.neuron = neuron;
        cfg.norm = norm;
        cfg.attn.k = 2;
        cfg.attn.v_th_attn = 0.125f;
        cases.push_back({"block",
                         std::string(norm_kind_name(norm)) + " " + attention_name(cfg.attn),
                         {},
                         [=](const std::string& b) { return run_block(b, cfg, *bi); }});
    }
}

const std::vector<op_case>& all_cases() {
    static const std::vector<op_case> cases = [] {
        std::vector<op_case> c;
        add_neuron_cases(c);
        add_attention_cases(c);
        add_linear_cases(c);
        add_batchnorm_cases(c);
        add_block_cases(c);
        return c;
    }();
    return cases;
}

std::size_t count_cases(const std::string& family) {
    return static_cast<std::size_t>(
        std::count_if(all_cases().begin(), all_cases().end(), [&](const op_case& c) { return c.family == family; }));
}

std::vector<float> to_float(const std::vector<double>& v) {
    return {v.begin(), v.end()};
}
double dot(const std::vector<float>& a, const std::vector<float>& w) {
    double l = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) l += double(a[i]) * w[i];
    return l;
}
std::vector<double> to_double(const std::vector<float>& v) {
    return {v.begin(), v.end()};
}

// Grad mode: the reference backward of each smooth op against central differences of its forward
// (float forward, loss in double: eps and the tolerance are sized for float rounding).
std::vector<grad_case> grad_cases() {
    const auto& ref = linear_backend_named("reference");
    std::vector<grad_case> g;
    constexpr std::size_t rows = 6, in = 7, out = 5;
    const auto x = normal_vector(rows * in, 41, 0, 0.0f, 1.0f), w = normal_vector(out * in, 41, 1, 0.0f, 1.0f),
               wl = normal_vector(rows * out, 41, 2, 0.0f, 1.0f);
    auto spikes = spike_vector(rows * in, 0.4f, 41, 3);
    for (std::size_t i = 0; i < spikes.size(); ++i) spikes[i] *= 0.25f * static_cast<float>(1 + i % 4);
    // Linear in the varied input: any eps is exact up to the rounding of y.
    g.push_back({"linear dense: dx", 0.25, 1e-4, to_double(x),
                 [=, &ref](const std::vector<double>& xs) {
                     std::vector<float> y(rows * out);
                     ref.forward_dense(y.data(), to_float(xs).data(), w.data(), rows, in, out);
                     return dot(y, wl);
                 },
                 [=, &ref](const std::vector<double>&) {
                     std::vector<float> dx(rows * in);
                     ref.backward_input(dx.data(), wl.data(), w.data(), rows, in, out);
                     return dx;
                 }});
    g.push_back({"linear dense: dw", 0.25, 1e-4, to_double(w),
                 [=, &ref](const std::vector<double>& ws) {
                     std::vector<float> y(rows * out);
                     ref.forward_dense(y.data(), x.data(), to_float(ws).data(), rows, in, out);
                     return dot(y, wl);
                 },
                 [=, &ref](const std::vector<double>&) {
                     std::vector<float> dw(out * in, 0.0f);
                     ref.backward_weight_dense(dw.data(), wl.data(), x.data(), rows, in, out);
                     return dw;
                 }});
    g.push_back({"linear spikes (levels 4): dw", 0.25, 1e-4, to_double(w),
                 [=, &ref](const std::vector<double>& ws) {
                     std::vector<float> wt(in * out), y(rows * out);
                     transpose(wt.data(), to_float(ws).data(), out, in);
                     ref.forward_spikes(y.data(), spikes.data(), wt.data(), rows, in, out, 4);
                     return dot(y, wl);
                 },
                 [=, &ref](const std::vector<double>&) {
                     std::vector<float> dw(out * in, 0.0f);
                     ref.backward_weight_spikes(dw.data(), wl.data(), spikes.data(), rows, in, out);
                     return dw;
                 }});
    // LIF with learned constants: dL/dtau and dL/dv_th per channel against the relaxed forward (ops.hpp)
    for (auto& c : lif_channel_grad_cases()) g.push_back(std::move(c));
    // BatchNorm in x and in (gamma, beta), padding rows included.
    const auto bn = batchnorm_case(11, 4, 2, 42);
    auto bn_loss = [bn](const std::vector<float>& xs, const std::vector<float>& gamma, const std::vector<float>& beta) {
        std::vector<float> y(xs.size()), mean(bn.C), rstd(bn.C), rm(bn.C, 0.0f), rv(bn.C, 1.0f);
        batchnorm_forward_train(y.data(), mean.data(), rstd.data(), rm.data(), rv.data(), xs.data(), gamma.data(),
                                beta.data(), bn.valid.data(), bn.rows, bn.C);
        return dot(y, bn.dy);
    };
    auto bn_grads = [bn]() {
        const std::size_t n = bn.rows * bn.C;
        std::vector<float> y(n), mean(bn.C), rstd(bn.C), rm(bn.C, 0.0f), rv(bn.C, 1.0f), dx(n), dgb(2 * bn.C, 0.0f);
        batchnorm_forward_train(y.data(), mean.data(), rstd.data(), rm.data(), rv.data(), bn.x.data(), bn.gamma.data(),
                                bn.beta.data(), bn.valid.data(), bn.rows, bn.C);
        batchnorm_backward(dx.data(), dgb.data(), dgb.data() + bn.C, bn.dy.data(), bn.x.data(), mean.data(),
                           rstd.data(), bn.gamma.data(), bn.valid.data(), bn.rows, bn.C);
        dx.insert(dx.end(), dgb.begin(), dgb.end());
        return dx;
    };
    g.push_back({"batchnorm: dx", 1e-2, 2e-3, to_double(bn.x),
                 [=](const std::vector<double>& xs) { return bn_loss(to_float(xs), bn.gamma, bn.beta); },
                 [=](const std::vector<double>&) {
                     auto all = bn_grads();
                     return std::vector<float>(all.begin(), all.end() - static_cast<std::ptrdiff_t>(2 * bn.C));
                 }});
    std::vector<double> gb = to_double(bn.gamma);
    gb.insert(gb.end(), bn.beta.begin(), bn.beta.end());
    g.push_back({"batchnorm: dgamma, dbeta", 1e-2, 2e-3, gb,
                 [=](const std::vector<double>& p) {
                     const auto f = to_float(p);
                     return bn_loss(bn.x, {f.begin(), f.begin() + static_cast<std::ptrdiff_t>(bn.C)},
                                    {f.begin() + static_cast<std::ptrdiff_t>(bn.C), f.end()});
                 },
                 [=](const std::vector<double>&) {
                     auto all = bn_grads();
                     return std::vector<float>(all.end() - static_cast<std::ptrdiff_t>(2 * bn.C), all.end());
                 }});
    // running-rms in x, gamma and beta (the running mean square as given is a constant of the forward)
    auto rms_loss = [bn](const std::vector<float>& xs, const std::vector<float>& affine) {
        std::vector<float> y(xs.size()), rstd(bn.C), ms(bn.C, 0.7f);
        rmsnorm_forward_train(y.data(), rstd.data(), ms.data(), xs.data(), affine.data(), affine.data() + bn.C,
                              bn.valid.data(), bn.rows, bn.C);
        return dot(y, bn.dy);
    };
    auto rms_grads = [bn, gb]() {
        const auto f = to_float(gb);
        std::vector<float> y(bn.x.size()), rstd(bn.C), ms(bn.C, 0.7f), dx(bn.x.size()), dgb(2 * bn.C, 0.0f);
        rmsnorm_forward_train(y.data(), rstd.data(), ms.data(), bn.x.data(), f.data(), f.data() + bn.C, bn.valid.data(),
                              bn.rows, bn.C);
        batchnorm_backward_frozen(dx.data(), dgb.data(), dgb.data() + bn.C, bn.dy.data(), bn.x.data(), nullptr,
                                  rstd.data(), f.data(), bn.rows, bn.C);
        dx.insert(dx.end(), dgb.begin(), dgb.end());
        return dx;
    };
    std::vector<double> xgb = to_double(bn.x);
    xgb.insert(xgb.end(), gb.begin(), gb.end());
    g.push_back({"running-rms: dx, dgamma, dbeta", 1e-2, 2e-3, xgb,
                 [=](const std::vector<double>& p) {
                     const auto f = to_float(p);
                     const auto split = f.begin() + static_cast<std::ptrdiff_t>(bn.x.size());
                     return rms_loss({f.begin(), split}, {split, f.end()});
                 },
                 [=](const std::vector<double>&) { return rms_grads(); }});
    // SSA and softmax attention are smooth in real-valued Q, K, V (the reference takes real values).
    const auto& att = attention_backend_named("reference");
    const attention_dims d{seq_shape{1, 1, 5}, 1, 4, nullptr};
    const std::size_t n = 5 * 4;
    std::vector<double> qkv(3 * n);
    counter_rng rng(43);
    for (std::size_t i = 0; i < qkv.size(); ++i) qkv[i] = rng.uniform(0, i);
    const auto wo = normal_vector(n, 43, 1, 0.0f, 1.0f);
    for (auto cfg : {attention(attention_kind::ssa, false), attention(attention_kind::ssa, true),
                     attention(attention_kind::softmax, false), attention(attention_kind::softmax, true)})
        g.push_back({attention_name(cfg) + ": dq, dk, dv", 1e-2, 2e-3, qkv,
                     [=, &att](const std::vector<double>& xs) {
                         const auto f = to_float(xs);
                         std::vector<float> o(n);
                         att.forward(o.data(), nullptr, f.data(), f.data() + n, f.data() + 2 * n, d, cfg);
                         return dot(o, wo);
                     },
                     [=, &att](const std::vector<double>& xs) {
                         const auto f = to_float(xs);
                         std::vector<float> grads(3 * n);
                         att.backward(grads.data(), grads.data() + n, grads.data() + 2 * n, wo.data(), f.data(),
                                      f.data() + n, f.data() + 2 * n, nullptr, d, cfg);
                         return grads;
                     }});
    return g;
}

// Every host backend of the family ran every case of it (the reference included, for its 2-thread run).
void check_host_family(const std::string& family) {
    std::size_t host_backends = 0;
    for (const auto& b : backends_of(family)) host_backends += is_device_backend(b) ? 0 : 1;
    CHECK(count_cases(family) > 0);
    CHECK(check_family(all_cases(), family, false) == count_cases(family) * host_backends);
}
}  // namespace

TEST_CASE("neurons: every LIF and NI-LIF case on every host backend equals the reference") {
    CHECK(count_cases("neurons") == 18 + 6 * 3 + 5);  // + the per-channel (learned constants) cases
    check_host_family("neurons");
}

TEST_CASE("attention: every attention kind on every host backend equals the reference") {
    CHECK(count_cases("attention") == 10 + 4 + 2 + 4 + 1);  // + the recency-bias cases
    check_host_family("attention");
}

TEST_CASE("linear: spike and dense linear maps on every host backend equal the reference") {
    check_host_family("linear");
}

TEST_CASE("batchnorm: the one BatchNorm implementation is independent of the thread count") {
    check_host_family("batchnorm");
}

TEST_CASE("block: the whole spiking block on every block backend equals the reference") {
    check_host_family("block");
}

TEST_CASE("grad: the reference backward of every smooth op equals finite differences of its forward") {
    const auto cases = grad_cases();
    CHECK(cases.size() == 3 + 2 + 1 + 4 + 8);  // linear, batchnorm, running-rms, attention, learned LIF constants
    for (const grad_case& g : cases) check_gradient(g);
}

TEST_CASE("cuda: every neuron case on the cuda backend equals the reference bit for bit") {
    const auto names = neuron_backend_names();
    REQUIRE_MESSAGE(std::find(names.begin(), names.end(), "cuda") != names.end(), "no CUDA device visible");
    CHECK(neuron_backend_named("cuda").supports_nilif());
    CHECK(check_family(all_cases(), "neurons", true) == count_cases("neurons"));
}
