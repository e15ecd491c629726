// Shared by the simulator tests: a freshly initialised model as an in-memory checkpoint, with the BN shifts
// set so that its layers fire.
#pragma once

#include <string>

#include "model/checkpoint.hpp"
#include "training/language_model.hpp"

namespace wtasim::test {

inline checkpoint fresh_checkpoint(const std::string& model_json, std::uint64_t seed, float bn_shift) {
    const model_config cfg = model_config::from_json(model_json);
    language_model m(cfg);
    m.init(seed);
    for (auto& p : m.parameters())
        if (p.name.ends_with(".bn.bias")) p.value->fill(bn_shift);
    return weights_checkpoint(m);
}

}  // namespace wtasim::test
