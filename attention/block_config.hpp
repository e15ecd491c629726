// The parameters of one spiking transformer block (docs/model.md §3, §4): widths, the neuron kind, the
// attention kind and its hyper-parameters, the neuron parameters and the kernel backend. A plain struct,
// apart from the block itself, so that the model config (model/config.hpp) needs no kernel headers.
#pragma once

#include <cstddef>
#include <string>

#include "attention/attention.hpp"
#include "attention/batchnorm.hpp"  // norm_kind
#include "attention/layers.hpp"     // neuron_kind

namespace wtasim {

struct block_config {
    std::size_t D = 64, H = 4, F = 256;
    neuron_kind neuron = neuron_kind::lif;
    attention_config attn;
    norm_kind norm = norm_kind::batch;  // of every spiking linear (docs/model.md §10 normalisation)
    lif_params lif;                     // SN, SN_h when lif; Q/K/V always; SN_a with v_th = attn.v_th_attn
    nilif_params nilif;                 // SN, SN_h when nilif
    std::string backend = "cpu";        // neuron and attention kernels: "reference" or "cpu"

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

}  // namespace wtasim
