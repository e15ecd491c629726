// The parameters of one spiking transformer block (docs/model.md §3, §4): widths, the neuron kind, the
// attention kind and its hyper-parameters, the neuron parameters and the kernel backend. A plain struct,
// apart from the block itself, so that the model config (model/config.hpp) needs no kernel headers.
#pragma once

#include <array>
#include <cstddef>
#include <string>

#include "attention/attention.hpp"
#include "attention/batchnorm.hpp"  // norm_kind
#include "attention/layers.hpp"     // neuron_kind

namespace wtasim {

// The neuron layers of a model by role (docs/model.md §8 names): per block SN (sn1), SN_q, SN_k, SN_v,
// the attention output SN_a (a), SN' (sn2), SN_h (h); and the model's final neuron (final).
enum class neuron_role { sn1, q, k, v, a, sn2, h, final };
constexpr std::size_t n_neuron_roles = 8;
constexpr std::array<const char*, n_neuron_roles> neuron_role_names{"sn1", "q", "k", "v", "a", "sn2", "h", "final"};
inline const char* neuron_role_name(neuron_role r) {
    return neuron_role_names[static_cast<std::size_t>(r)];
}

struct block_config {
    std::size_t D = 64, H = 4, F = 256;
    neuron_kind neuron = neuron_kind::lif;
    attention_config attn;
    norm_kind norm = norm_kind::batch;  // of every spiking linear (docs/model.md §10 normalisation)
    lif_params lif;                     // SN, SN_h when lif; Q/K/V always; SN_a with v_th = attn.v_th_attn
    nilif_params nilif;                 // SN, SN_h when nilif
    std::string backend = "cpu";        // neuron and attention kernels: "reference" or "cpu"
    // Learnable LIF constants (/model/lif/learn_tau, learn_v_th): every LIF layer learns them; NI-LIF
    // layers have no tau or v_th and learn nothing.
    neuron_learning learn;
    // Surrogate slope per role (/model/lif/layer_alpha); 0: lif.sg.alpha.
    std::array<float, n_neuron_roles> alpha{};

    void validate() const;
};

// The LIF parameters of SN_q and SN_k (their own threshold when set) and of the attention output SN_a
// (threshold v_th_attn): what the trainer's block and the simulator's populations both use.
inline lif_params qk_neuron(const block_config& c) {
    lif_params p = c.lif;
    if (c.attn.own_qk_threshold) p.v_th = c.attn.v_th_qk;
    return p;
}
inline lif_params attention_output_neuron(const block_config& c) {
    lif_params p = c.lif;
    p.v_th = c.attn.v_th_attn;
    return p;
}
// The LIF parameters of the layer with role `r`: the thresholds above, and the role's surrogate slope.
inline lif_params role_neuron(const block_config& c, neuron_role r) {
    lif_params p = r == neuron_role::q || r == neuron_role::k ? qk_neuron(c)
                   : r == neuron_role::a                      ? attention_output_neuron(c)
                                                              : c.lif;
    const float a = c.alpha[static_cast<std::size_t>(r)];
    if (a > 0.0f) p.sg.alpha = a;
    return p;
}

}  // namespace wtasim
