// Trainable layers of the spiking block, each a small module that owns its parameters and gradients,
// keeps what its backward needs from the last training forward, and counts its operations (docs/model.md §7):
// - spiking_linear  SL(x) = BN(W x) on spike input (attention/linear.hpp + attention/batchnorm.hpp), or the
//                   running-rms / no normalisation of docs/model.md §10 (same tensors, same fold)
// - neuron_layer    LIF or NI-LIF over [T, rows / T, C] (neurons/); a LIF layer may learn its time constant
//                   (PLIF, tau = 1 + exp(-w)) and its threshold, one per layer or one per channel
// Rows are [T, B, N] flattened (attention/shape.hpp); `valid` marks the real-token rows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attention/batchnorm.hpp"
#include "core/rng.hpp"
#include "core/tensor.hpp"
#include "energy/op_counts.hpp"
#include "neurons/backend.hpp"

namespace wtasim {

// A named parameter and its gradient (PyTorch state_dict names: "attn.q.weight", ...).
struct param_ref {
    std::string name;
    tensor<float>* value;
    tensor<float>* grad;  // null for buffers
};

class spiking_linear {
public:
    spiking_linear(std::string name, std::size_t in, std::size_t out, norm_kind norm = norm_kind::batch);

    // Uniform(-b, b) weights, gamma 1, beta 0, running statistics 0 / 1; b = 1/sqrt(in), or with norm "none"
    // b = sqrt(12 / in), which gives W x unit variance when a quarter of the inputs spike.
    void init(const counter_rng& rng, std::uint64_t stream);
    // y [rows, out] from spikes x [rows, in] (values in {0, 1/levels, ..., 1}); x must stay alive until
    // backward. Training: batch statistics over valid rows, running statistics updated.
    void forward(float* y, const float* x, std::size_t rows, const std::uint8_t* valid, bool training, int levels);
    // dx [rows, in] (may be null) from dy [rows, out]; accumulates dweight, dgamma, dbeta.
    void backward(float* dx, const float* dy);
    // docs/model.md §7 for the last forward: events x out AC + out AC per real row (the folded-BN bias).
    op_counts counts() const;
    // Eval-mode BN folded into the weight: w_folded [out, in], bias [out].
    void fold(std::vector<float>& w_folded, std::vector<float>& bias) const;

    std::vector<param_ref> parameters();
    std::vector<param_ref> buffers();
    std::size_t in() const { return in_; }
    std::size_t out() const { return out_; }
    norm_kind norm() const { return norm_; }

    tensor<float> weight, gamma, beta, running_mean, running_var;
    tensor<float> dweight, dgamma, dbeta;

private:
    std::string name_;
    std::size_t in_, out_;
    norm_kind norm_;
    bn_config bn_;
    // last forward
    const float* x_ = nullptr;
    const std::uint8_t* valid_ = nullptr;
    std::size_t rows_ = 0;
    int levels_ = 1;
    bool training_ = false;  // whether the last forward was a training one (backward needs its statistics)
    std::vector<float> pre_, mean_, rstd_, wt_;
};

enum class neuron_kind { lif, nilif };
neuron_kind neuron_kind_from_name(const std::string& name);  // "lif" or "nilif"

// What a LIF layer learns of its constants (docs/model.md §10 learnable neurons): nothing, one value for the
// whole layer, or one per channel.
enum class learn_mode { none, layer, channel };
learn_mode learn_mode_from_name(const std::string& name);  // "none", "layer" or "channel"
const char* learn_mode_name(learn_mode m);

struct neuron_learning {
    learn_mode tau = learn_mode::none;   // parameter <name>.plif_w, tau = 1 + exp(-w)
    learn_mode v_th = learn_mode::none;  // parameter <name>.v_th
    bool any() const { return tau != learn_mode::none || v_th != learn_mode::none; }
};

class neuron_layer {
public:
    // `backend` must support `kind` (checked here, so an unsupported choice fails when the model is built).
    // A LIF layer with `learn` set owns the parameters "<name>.plif_w" (initialised to -log(tau - 1)) and/or
    // "<name>.v_th" (initialised to lif.v_th), of shape [1] (layer) or [C] (channel); C is the channel count
    // (the innermost axis of its input). An NI-LIF layer ignores `learn`.
    neuron_layer(neuron_kind kind, const lif_params& lif, const nilif_params& nilif, const neuron_backend& backend,
                 const std::string& name = "", std::size_t C = 1, neuron_learning learn = {});
    // s [T, n] spikes from x [T, n]; keeps the membrane for backward.
    void forward(float* s, const float* x, std::size_t T, std::size_t n);
    // The same without a copy: the layer's own spikes [T, n], valid until its next forward.
    const float* forward(const float* x, std::size_t T, std::size_t n);
    void backward(float* dx, const float* ds);
    // One NU per real row per channel per step; events (spikes, or NI-LIF levels) on real rows.
    op_counts counts(const std::uint8_t* valid, std::size_t C) const;
    std::uint64_t events(const std::uint8_t* valid, std::size_t C) const;
    int levels() const { return kind_ == neuron_kind::nilif ? nilif_.levels : 1; }
    const std::vector<float>& spikes() const { return s_; }
    // The learned constants (empty when none): the parameters and their gradients, and the per-channel tau
    // and v_th they give ([C]; what the kernels and the simulator use).
    std::vector<param_ref> parameters();
    std::vector<float> channel_tau() const;
    std::vector<float> channel_v_th() const;

    tensor<float> plif_w, v_th, dplif_w, dv_th;

private:
    neuron_kind kind_;
    const neuron_backend* backend_;
    lif_params lif_;
    nilif_params nilif_;
    std::string name_;
    std::size_t C_;
    neuron_learning learn_;
    std::size_t T_ = 0, n_ = 0;
    std::vector<float> s_, state_, tau_c_, v_th_c_;
};

}  // namespace wtasim
