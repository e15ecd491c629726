// spiking_linear and neuron_layer (attention/layers.hpp).
#include "attention/layers.hpp"

#include <cmath>

#include "attention/linear.hpp"
#include "core/allocator.hpp"
#include "core/error.hpp"

namespace wtasim {

spiking_linear::spiking_linear(std::string name, std::size_t in, std::size_t out, norm_kind norm)
    : weight({out, in}),
      gamma({out}, 1.0f),
      beta({out}, 0.0f),
      running_mean({out}, 0.0f),
      running_var({out}, 1.0f),
      dweight({out, in}),
      dgamma({out}),
      dbeta({out}),
      name_(std::move(name)),
      in_(in),
      out_(out),
      norm_(norm) {}

void spiking_linear::init(const counter_rng& rng, std::uint64_t stream) {
    const float bound = norm_ == norm_kind::none ? std::sqrt(12.0f / static_cast<float>(in_))
                                                 : 1.0f / std::sqrt(static_cast<float>(in_));
    rng.fill_uniform(weight.data(), weight.size(), stream, 0, -bound, bound);
    gamma.fill(1.0f);
    beta.fill(0.0f);
    running_mean.fill(0.0f);
    running_var.fill(1.0f);
}

void spiking_linear::forward(float* y, const float* x, std::size_t rows, const std::uint8_t* valid, bool training,
                             int levels) {
    x_ = x;
    valid_ = valid;
    rows_ = rows;
    levels_ = levels;
    training_ = training;
    wt_.resize(in_ * out_);
    transpose(wt_.data(), weight.data(), out_, in_);
    pre_.resize(rows * out_);
    cpu::linear_forward_spikes(pre_.data(), x, wt_.data(), rows, in_, out_, levels);
    mean_.resize(out_);
    rstd_.resize(out_);
    if (training && norm_ == norm_kind::running_rms) {
        rmsnorm_forward_train(y, rstd_.data(), running_var.data(), pre_.data(), gamma.data(), beta.data(), valid, rows,
                              out_, bn_);
    } else if (training && norm_ == norm_kind::batch) {
        batchnorm_forward_train(y, mean_.data(), rstd_.data(), running_mean.data(), running_var.data(), pre_.data(),
                                gamma.data(), beta.data(), valid, rows, out_, bn_);
    } else {
        batchnorm_forward_eval(y, pre_.data(), gamma.data(), beta.data(), running_mean.data(), running_var.data(), rows,
                               out_, bn_);
    }
}

void spiking_linear::backward(float* dx, const float* dy) {
    if (!training_ || x_ == nullptr)
        throw internal_error("spiking_linear " + name_ + ": backward needs a training forward just before it");
    float* dpre = thread_scratch(16, rows_ * out_);  // written in full by the norm's backward
    if (norm_ == norm_kind::batch) {
        batchnorm_backward(dpre, dgamma.data(), dbeta.data(), dy, pre_.data(), mean_.data(), rstd_.data(), gamma.data(),
                           valid_, rows_, out_);
    } else {
        if (norm_ == norm_kind::none) running_rstd(rstd_.data(), running_var.data(), out_, bn_);  // var stays 1
        batchnorm_backward_frozen(dpre, dgamma.data(), dbeta.data(), dy, pre_.data(), nullptr, rstd_.data(),
                                  gamma.data(), rows_, out_);
    }
    cpu::linear_backward_weight_spikes(dweight.data(), dpre, x_, rows_, in_, out_);
    cpu::linear_backward_input(dx, dpre, weight.data(), rows_, in_, out_);
}

op_counts spiking_linear::counts() const {
    op_counts ops;
    double events = 0.0;
    std::uint64_t real_rows = 0;
    for (std::size_t r = 0; r < rows_; ++r) {
        if (valid_ && !valid_[r]) continue;
        ++real_rows;
        for (std::size_t j = 0; j < in_; ++j) events += double(x_[r * in_ + j]) * levels_;
    }
    ops.add(op_class::ac, static_cast<std::uint64_t>(std::llround(events)) * out_ + real_rows * out_);
    return ops;
}

void spiking_linear::fold(std::vector<float>& w_folded, std::vector<float>& bias) const {
    w_folded.resize(in_ * out_);
    bias.resize(out_);
    batchnorm_fold(w_folded.data(), bias.data(), weight.data(), gamma.data(), beta.data(), running_mean.data(),
                   running_var.data(), out_, in_, bn_);
}

std::vector<param_ref> spiking_linear::parameters() {
    return {{name_ + ".weight", &weight, &dweight},
            {name_ + ".bn.weight", &gamma, &dgamma},
            {name_ + ".bn.bias", &beta, &dbeta}};
}

std::vector<param_ref> spiking_linear::buffers() {
    return {{name_ + ".bn.running_mean", &running_mean, nullptr}, {name_ + ".bn.running_var", &running_var, nullptr}};
}

neuron_kind neuron_kind_from_name(const std::string& name) {
    if (name == "lif") return neuron_kind::lif;
    if (name == "nilif") return neuron_kind::nilif;
    throw config_error("neuron kind \"" + name + "\" is unknown, expected \"lif\" or \"nilif\"");
}

learn_mode learn_mode_from_name(const std::string& name) {
    if (name == "none") return learn_mode::none;
    if (name == "layer") return learn_mode::layer;
    if (name == "channel") return learn_mode::channel;
    throw config_error("learn mode \"" + name + "\" is unknown, expected \"none\", \"layer\" or \"channel\"");
}

const char* learn_mode_name(learn_mode m) {
    return m == learn_mode::none ? "none" : m == learn_mode::layer ? "layer" : "channel";
}

neuron_layer::neuron_layer(neuron_kind kind, const lif_params& lif, const nilif_params& nilif,
                           const neuron_backend& backend, const std::string& name, std::size_t C, neuron_learning learn)
    : kind_(kind),
      backend_(&backend),
      lif_(lif),
      nilif_(nilif),
      name_(name),
      C_(C),
      learn_(kind == neuron_kind::lif ? learn : neuron_learning{}) {
    if (kind == neuron_kind::lif ? !backend.supports_lif() : !backend.supports_nilif())
        throw backend_error("neuron backend \"" + backend.name + "\" does not support " +
                            (kind == neuron_kind::lif ? "lif" : "nilif") + " neurons");
    if (learn_.any() && C_ == 0) throw internal_error("neuron_layer " + name_ + ": learned constants need C >= 1");
    auto size = [&](learn_mode m) -> std::size_t {
        return m == learn_mode::none ? 0 : m == learn_mode::layer ? 1 : C_;
    };
    plif_w = tensor<float>({size(learn_.tau)}, plif_w_of_tau(lif.tau));
    dplif_w = tensor<float>({size(learn_.tau)});
    v_th = tensor<float>({size(learn_.v_th)}, lif.v_th);
    dv_th = tensor<float>({size(learn_.v_th)});
}

std::vector<param_ref> neuron_layer::parameters() {
    std::vector<param_ref> all;
    if (learn_.tau != learn_mode::none) all.push_back({name_ + ".plif_w", &plif_w, &dplif_w});
    if (learn_.v_th != learn_mode::none) all.push_back({name_ + ".v_th", &v_th, &dv_th});
    return all;
}

std::vector<float> neuron_layer::channel_tau() const {
    std::vector<float> tau;
    if (learn_.tau == learn_mode::none) return tau;
    for (std::size_t c = 0; c < C_; ++c) tau.push_back(plif_tau(plif_w.data()[plif_w.size() == 1 ? 0 : c]));
    return tau;
}

std::vector<float> neuron_layer::channel_v_th() const {
    std::vector<float> v;
    if (learn_.v_th == learn_mode::none) return v;
    for (std::size_t c = 0; c < C_; ++c) v.push_back(v_th.data()[v_th.size() == 1 ? 0 : c]);
    return v;
}

void neuron_layer::forward(float* s, const float* x, std::size_t T, std::size_t n) {
    forward(x, T, n);
    std::copy(s_.begin(), s_.end(), s);
}

const float* neuron_layer::forward(const float* x, std::size_t T, std::size_t n) {
    T_ = T;
    n_ = n;
    s_.resize(T * n);
    state_.resize(T * n);
    if (kind_ == neuron_kind::lif) {
        tau_c_ = channel_tau();
        v_th_c_ = channel_v_th();
        const lif_channels ch{tau_c_.empty() ? nullptr : tau_c_.data(), v_th_c_.empty() ? nullptr : v_th_c_.data(), C_};
        backend_->lif_forward(s_.data(), state_.data(), x, T, n, lif_, nullptr, ch);
    } else
        backend_->nilif_forward(s_.data(), state_.data(), x, T, n, nilif_, nullptr);
    return s_.data();
}

void neuron_layer::backward(float* dx, const float* ds) {
    if (kind_ == neuron_kind::lif && learn_.any()) {
        // Per-neuron sums over t from the kernel, then per channel over the rows in row order, in double, so
        // that the result does not depend on threads; chained to w by dtau/dw = -exp(-w).
        const lif_channels ch{tau_c_.empty() ? nullptr : tau_c_.data(), v_th_c_.empty() ? nullptr : v_th_c_.data(), C_};
        std::vector<float> dtau_n(learn_.tau != learn_mode::none ? n_ : 0),
            dv_th_n(learn_.v_th != learn_mode::none ? n_ : 0);
        backend_->lif_backward(dx, ds, s_.data(), state_.data(), T_, n_, lif_, ch,
                               dtau_n.empty() ? nullptr : dtau_n.data(), dv_th_n.empty() ? nullptr : dv_th_n.data());
        auto reduce = [&](const std::vector<float>& per_neuron, tensor<float>& grad, const tensor<float>* w) {
            if (per_neuron.empty()) return;
            std::vector<double> per_channel(C_, 0.0);
            for (std::size_t r = 0; r < n_ / C_; ++r)
                for (std::size_t c = 0; c < C_; ++c) per_channel[c] += double(per_neuron[r * C_ + c]);
            auto chain = [&](std::size_t i, double g) { return w ? -std::exp(-double(w->data()[i])) * g : g; };
            if (grad.size() == 1) {
                double total = 0.0;
                for (double g : per_channel) total += g;
                grad.data()[0] += static_cast<float>(chain(0, total));
            } else {
                for (std::size_t c = 0; c < C_; ++c) grad.data()[c] += static_cast<float>(chain(c, per_channel[c]));
            }
        };
        reduce(dtau_n, dplif_w, &plif_w);
        reduce(dv_th_n, dv_th, nullptr);
    } else if (kind_ == neuron_kind::lif) {
        backend_->lif_backward(dx, ds, s_.data(), state_.data(), T_, n_, lif_, {}, nullptr, nullptr);
    } else
        backend_->nilif_backward(dx, ds, state_.data(), T_, n_, nilif_);
}

std::uint64_t neuron_layer::events(const std::uint8_t* valid, std::size_t C) const {
    const std::size_t rows = T_ * n_ / C;
    const float scale = static_cast<float>(levels());
    double total = 0.0;
    for (std::size_t r = 0; r < rows; ++r) {
        if (valid && !valid[r]) continue;
        for (std::size_t c = 0; c < C; ++c) total += double(s_[r * C + c] * scale);
    }
    return static_cast<std::uint64_t>(std::llround(total));
}

op_counts neuron_layer::counts(const std::uint8_t* valid, std::size_t C) const {
    const std::size_t rows = T_ * n_ / C;
    std::uint64_t real_rows = 0;
    for (std::size_t r = 0; r < rows; ++r) real_rows += (valid == nullptr || valid[r]) ? 1 : 0;
    op_counts ops;
    ops.add(op_class::nu, real_rows * C);
    return ops;
}

}  // namespace wtasim
