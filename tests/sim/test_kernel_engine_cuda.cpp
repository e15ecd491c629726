// The kernel engine (sim/kernel_engine.hpp) with the GPU's executor (sim/cuda/executor.hpp) against the CPU
// engine on whole models: logits and every neuron layer's events bit for bit. Label `cuda`: needs a GPU.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>

#include "helpers.hpp"
#include "sim/cuda/executor.hpp"
#include "sim/engine.hpp"
#include "sim/kernel_engine.hpp"

using namespace wtasim;

TEST_CASE("cuda kernels: the kernel engine on the GPU equals the CPU engine on whole models") {
    const std::string base =
        R"("vocab": 40, "d_model": 32, "heads": 2, "d_ff": 64, "layers": 2, "T": 4, "max_len": 32)";
    const char* models[] = {
        R"("causal": true, "neuron": "lif", "attention": {"kind": "wta", "k": 1, "recency": "shift+bias", "bias": [2, 1],
           "fill": true}, "readout": "residual")",
        R"("causal": false, "neuron": "nilif", "attention": {"kind": "wta", "k": 2, "v_th_attn": 0.25})",
        R"("causal": true, "neuron": "lif", "readout": "levels", "attention": {"kind": "wta"},
           "lif": {"learn_tau": "channel", "learn_v_th": "channel"})",
    };
    std::uint64_t seed = 7;
    for (const char* m : models) {
        CAPTURE(m);
        const sim_network net =
            sim_network::from_checkpoint(test::fresh_checkpoint("{" + base + ", " + m + "}", seed++, 0.4f), "fixture");
        std::vector<std::int32_t> tokens(29);
        for (std::size_t i = 0; i < tokens.size(); ++i) tokens[i] = std::int32_t((i * 13 + seed) % 40);
        const sim_result cpu = simulate(net, tokens);
        cuda::executor gpu;
        const kernel_run k = simulate_with(gpu, net, tokens);
        CHECK(std::memcmp(cpu.logits.data(), k.logits.data(), k.logits.size() * sizeof(float)) == 0);
        for (const auto& [name, events] : k.events) {
            CAPTURE(name);
            const auto it = std::find_if(cpu.layers.begin(), cpu.layers.end(),
                                         [&](const layer_stats& l) { return l.name == name; });
            REQUIRE(it != cpu.layers.end());
            CHECK(events == it->events);
        }
    }
}
