// Streaming generation: feeding tokens one at a time through the K/V spike cache gives, at every position,
// exactly the logits of a full-sequence simulation, and the per-token operations add up to the full run's.
#include <doctest/doctest.h>

#include <cstring>

#include "core/error.hpp"
#include "helpers.hpp"
#include "sim/engine.hpp"
#include "sim/stream.hpp"

using namespace wtasim;

namespace {
checkpoint make(const std::string& json) {
    return test::fresh_checkpoint(json, 41, 0.75f);
}
}  // namespace

TEST_CASE(
    "stream: token-by-token logits and counts equal the full-sequence simulation (CWSSA, SSA, NI-LIF, readouts)") {
    for (const char* attn : {R"("neuron": "lif", "attention": {"kind": "wta", "k": 2})",
                             R"("neuron": "nilif", "attention": {"kind": "wta", "k": 1})",
                             R"("neuron": "lif", "attention": {"kind": "ssa", "v_th_attn": 0.125})",
                             R"("neuron": "lif", "attention": {"kind": "softmax", "v_th_attn": 0.25})",
                             R"("neuron": "lif", "attention": {"kind": "wta", "k": 1, "recency": "shift"})",
                             R"("neuron": "lif", "attention": {"kind": "wta", "k": 2, "recency": "shift+bias",
                                 "bias": [2, 1], "fill": true, "v_th_qk": 0.5})",
                             R"("neuron": "lif", "readout": "levels", "attention": {"kind": "wta", "k": 1})",
                             R"("neuron": "nilif", "readout": "residual", "attention": {"kind": "wta", "k": 2})",
                             R"("neuron": "lif", "norm": "running-rms", "attention": {"kind": "wta", "k": 2})",
                             R"("neuron": "nilif", "norm": "none", "attention": {"kind": "wta", "k": 1})",
                             R"("neuron": "lif", "attention": {"kind": "wta", "k": 2},
                                 "lif": {"learn_tau": "channel", "learn_v_th": "channel"})",
                             R"("neuron": "nilif", "attention": {"kind": "wta", "k": 1, "recency": "shift"},
                                 "lif": {"learn_tau": "layer", "learn_v_th": "channel", "reset": "soft"})"}) {
        CAPTURE(attn);
        const checkpoint c = make(std::string(R"({"vocab": 25, "d_model": 16, "heads": 2, "d_ff": 32, "layers": 2,
            "T": 3, "max_len": 12, "causal": true, )") +
                                  attn + "}");
        const sim_network net = sim_network::from_checkpoint(c, "mem");
        const std::vector<std::int32_t> tokens{2, 9, 4, 4, 17, 1, 23, 8, 5};
        const sim_result full = simulate(net, tokens);
        // every backend's decoder: the event engine's, the kernel engine's (emulated on the host; on a GPU, cuda)
        for (const std::string& backend : sim_backend_names()) {
            CAPTURE(backend);
            stream_decoder dec(net, backend);
            op_counts streamed;
            for (std::size_t i = 0; i < tokens.size(); ++i) {
                op_counts ops;
                const auto logits = dec.push(tokens[i], &ops);
                streamed += ops;
                CHECK(ops[op_class::nu] > 0);
                if (backend == "cuda" && net.cfg.block.attn.kind == attention_kind::softmax) continue;  // expf
                CHECK(std::memcmp(logits.data(), full.logits.data() + i * 25, 25 * sizeof(float)) == 0);
            }
            CHECK(dec.length() == tokens.size());
            CHECK(streamed == full.total);
        }
    }
}

TEST_CASE("stream: refused for bidirectional models and past max_len; sampling rules") {
    const checkpoint we = make(R"({"vocab": 25, "d_model": 16, "heads": 2, "d_ff": 32, "layers": 1, "T": 2,
        "max_len": 2, "causal": false})");
    const sim_network net_we = sim_network::from_checkpoint(we, "we");
    CHECK_THROWS_AS(stream_decoder{net_we}, config_error);
    CHECK_THROWS_AS(stream_decoder(net_we, "emulated"), config_error);
    const checkpoint wd = make(R"({"vocab": 25, "d_model": 16, "heads": 2, "d_ff": 32, "layers": 1, "T": 2,
        "max_len": 2, "causal": true})");
    const sim_network net = sim_network::from_checkpoint(wd, "wd");
    stream_decoder dec(net);
    dec.push(1);
    dec.push(2);
    CHECK_THROWS_AS(dec.push(3), config_error);
    const std::vector<float> logits{0.1f, 3.0f, 2.9f, -1.0f};
    CHECK(sample_token(logits, 0.0, 0, 1, 0) == 1);  // greedy
    CHECK(sample_token(logits, 1.0, 1, 1, 0) == 1);  // top-1
    std::size_t ones = 0, twos = 0, others = 0;
    for (std::uint64_t s = 0; s < 2000; ++s) {
        const auto t = sample_token(logits, 1.0, 2, 7, s);
        (t == 1 ? ones : t == 2 ? twos : others)++;
    }
    CHECK(others == 0);  // top-2 only
    CHECK(double(ones) / 2000 == doctest::Approx(std::exp(0.1) / (1 + std::exp(0.1))).epsilon(0.06));
    CHECK(sample_token(logits, 1.0, 2, 7, 5) == sample_token(logits, 1.0, 2, 7, 5));  // deterministic
}
