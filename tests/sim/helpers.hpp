// Shared by the simulator tests: a freshly initialised model as an in-memory checkpoint, with the BN shifts
// set so that its layers fire, and learned neuron constants (if the config has them) moved away from their
// initial values: w = -log(tau - 1) shifted into about [-0.4, 0.4], thresholds scaled by 0.8 to 1.2.
#pragma once

#include <string>

#include "model/checkpoint.hpp"
#include "training/language_model.hpp"

namespace wtasim::test {

inline checkpoint fresh_checkpoint(const std::string& model_json, std::uint64_t seed, float bn_shift) {
    const model_config cfg = model_config::from_json(model_json);
    language_model m(cfg);
    m.init(seed);
    std::size_t layer = 0;
    for (auto& p : m.parameters()) {
        if (p.name.ends_with(".bn.bias")) p.value->fill(bn_shift);
        const bool w = p.name.ends_with(".plif_w"), v = p.name.ends_with(".v_th");
        if (!w && !v) continue;
        for (std::size_t i = 0; i < p.value->size(); ++i) {
            const float u = static_cast<float>((i * 7 + layer * 5) % 9) / 8.0f - 0.5f;  // in [-0.5, 0.5]
            p.value->data()[i] = w ? p.value->data()[i] + 0.8f * u : p.value->data()[i] * (1.0f + 0.4f * u);
        }
        ++layer;
    }
    return weights_checkpoint(m);
}

// RFC 4648 base64, decoded by lookup in the alphabet (the reports encode; this is the independent reader).
inline std::string base64_decode(const std::string& text) {
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned bits = 0;
    int held = 0;
    for (char c : text) {
        if (c == '=') break;
        const std::size_t v = alphabet.find(c);
        if (v == std::string::npos) return "(not base64)";
        bits = ((bits << 6) | unsigned(v)) & 0xffffu;
        held += 6;
        if (held >= 8) {
            held -= 8;
            out += char((bits >> held) & 0xff);
        }
    }
    return out;
}

}  // namespace wtasim::test
