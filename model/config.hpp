// The configuration of a whole model (docs/model.md §4, §8.1): sizes, spiking or the ANN twin, causal or
// bidirectional, the block's neuron and attention kinds and parameters, and the optional task head. It is
// the "config" attribute of every checkpoint (as JSON), read by the trainer and the simulator alike.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "attention/block_config.hpp"

namespace wtasim {

struct model_config {
    std::size_t vocab = 1000, D = 64, H = 4, F = 256, L = 2, T = 4, max_len = 128;
    bool spiking = true;  // false: the ANN twin
    bool causal = true;   // decoder (WD) when true, encoder (WE) when false
    block_config block;   // neuron kind, attention kind and its parameters, neuron parameters, backend
    // What the heads read (docs/model.md §10 readouts): "spikes" = mean_t of the final neuron of the block's
    // kind, "levels" = mean_t of an NI-LIF final neuron's levels, "residual" = mean_t X (no final neuron).
    std::string readout = "spikes";
    // An optional task head (docs/model.md §4 readouts): parameters task.<name>.weight [outputs, D] and
    // task.<name>.bias [outputs] on the readout features; "sequence" readout = mean over t and over the real
    // tokens, "token" = per token (tagging; span QA with outputs 2 = start, end). Empty name: no task head.
    std::string task;
    std::string task_readout = "sequence";
    std::size_t task_outputs = 0;
    // What the head was fine-tuned for, so that `wtasim predict` and `eval` can decode it: the task's kind
    // ("classification", "pair_classification", "regression", "tagging", "span_qa") and its class / tag
    // names (index = output). Empty in checkpoints fine-tuned before they were stored.
    std::string task_kind;
    std::vector<std::string> task_labels;

    // From JSON text (the "model" object of a scenario). Errors read "<origin>: <pointer>/<key> = <value>, ...",
    // e.g. "x.json: /model/attention/k = 0, must be >= 1".
    static model_config from_json(const std::string& json_text, const std::string& origin = "model config",
                                  const std::string& pointer = "");
    std::string to_json() const;
};

}  // namespace wtasim
