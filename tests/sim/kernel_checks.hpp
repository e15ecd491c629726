// A kernel-engine run (sim/kernel_engine.hpp) against the CPU engine's result on the same tokens: logits bit
// for bit and every neuron layer's events (test_kernels.cpp with the emulated launcher, test_kernel_engine_cuda.cpp
// on a GPU). Returns the events counted, so that a caller can require that the model fired.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>

#include "helpers.hpp"
#include "sim/engine.hpp"
#include "sim/kernel_engine.hpp"

namespace wtasim::test {

// The model `json` with fresh weights and BN shifts that make every layer fire (helpers.hpp), as the simulator
// loads it, and `n` tokens of its vocabulary.
inline sim_network firing_network(const std::string& json, std::uint64_t seed) {
    return sim_network::from_checkpoint(fresh_checkpoint(json, seed, 0.4f), "fixture");
}
inline std::vector<std::int32_t> some_tokens(std::size_t n, std::size_t vocab, std::uint64_t seed) {
    std::vector<std::int32_t> tokens(n);
    for (std::size_t i = 0; i < n; ++i) tokens[i] = static_cast<std::int32_t>((i * 17 + seed * 5) % vocab);
    return tokens;
}

inline std::uint64_t check_kernel_run(const sim_result& cpu, const kernel_run& k) {
    CHECK(cpu.logits.size() == k.logits.size());
    CHECK(std::memcmp(cpu.logits.data(), k.logits.data(), std::min(cpu.logits.size(), k.logits.size()) * 4) == 0);
    std::uint64_t fired = 0;
    for (const auto& [name, events] : k.events) {
        CAPTURE(name);
        const auto it =
            std::find_if(cpu.layers.begin(), cpu.layers.end(), [&](const layer_stats& l) { return l.name == name; });
        REQUIRE(it != cpu.layers.end());
        CHECK(events == it->events);
        fired += events;
    }
    return fired;
}

// Each model `base` + one of `models` (JSON members) through the CPU engine and through the kernel engine on
// `ex`, on `tokens` tokens: equal, and firing.
template <class Exec, std::size_t M>
void check_models_on(Exec& ex, const std::string& base, const char* const (&models)[M], std::size_t tokens,
                     std::uint64_t seed) {
    for (const char* m : models) {
        CAPTURE(m);
        const sim_network net = firing_network("{" + base + ", " + m + "}", seed);
        const std::vector<std::int32_t> t = some_tokens(tokens, net.cfg.vocab, seed++);
        CHECK(check_kernel_run(simulate(net, t), simulate_with(ex, net, t)) > 0);
    }
}

}  // namespace wtasim::test
