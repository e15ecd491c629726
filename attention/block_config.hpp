// The parameters of one spiking transformer block (docs/model.md §3, §4): widths, the neuron kind, the
// attention kind and its hyper-parameters, the neuron parameters and the kernel backend. A plain struct,
// apart from the block itself, so that the model config (model/config.hpp) needs no kernel headers.
#pragma once

#include <cstddef>
#include <string>

#include "attention/attention.hpp"
#include "attention/layers.hpp"  // neuron_kind

namespace wtasim {

struct block_config {
    std::size_t D = 64, H = 4, F = 256;
    neuron_kind neuron = neuron_kind::lif;
    attention_config attn;
    lif_params lif;               // SN, SN_h when lif; Q/K/V always; SN_a with v_th = attn.v_th_attn
    nilif_params nilif;           // SN, SN_h when nilif
    std::string backend = "cpu";  // neuron and attention kernels: "reference" or "cpu"

    void validate() const;
};

}  // namespace wtasim
