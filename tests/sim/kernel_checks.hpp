// Kernel-engine runs (sim/kernel_engine.hpp) against the CPU engine's results on the same tokens: logits bit
// for bit (or, with `logit_tolerance`, within it relative to the largest |logit|), and every layer's operation
// counts, events, active neurons and per-step events, the per-step totals, the winners and the recorded
// events and membranes equal (test_kernels.cpp with the emulated launcher, test_kernel_engine_cuda.cpp on a
// GPU). Returns the events counted, so that a caller can require that the model fired.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
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

inline std::uint64_t check_same_result(const sim_result& cpu, const sim_result& k, double logit_tolerance = 0.0) {
    REQUIRE(cpu.logits.size() == k.logits.size());
    if (logit_tolerance == 0.0) {
        CHECK(std::memcmp(cpu.logits.data(), k.logits.data(), cpu.logits.size() * sizeof(float)) == 0);
    } else {
        float scale = 0.0f, worst = 0.0f;
        for (std::size_t i = 0; i < cpu.logits.size(); ++i) {
            scale = std::max(scale, std::fabs(cpu.logits[i]));
            worst = std::max(worst, std::fabs(cpu.logits[i] - k.logits[i]));
        }
        CHECK(worst <= logit_tolerance * scale);
    }
    REQUIRE(cpu.layers.size() == k.layers.size());
    std::uint64_t fired = 0;
    for (std::size_t i = 0; i < cpu.layers.size(); ++i) {
        const layer_stats &a = cpu.layers[i], &b = k.layers[i];
        CAPTURE(a.name);
        CHECK(a.name == b.name);
        CHECK(a.ops == b.ops);
        CHECK(a.events == b.events);
        CHECK(a.neurons == b.neurons);
        CHECK(a.active == b.active);
        CHECK(a.step_events == b.step_events);
        fired += b.events;
    }
    CHECK(cpu.total == k.total);
    CHECK(cpu.per_step == k.per_step);
    CHECK(cpu.winners == k.winners);
    REQUIRE(cpu.spikes.size() == k.spikes.size());
    for (std::size_t i = 0; i < cpu.spikes.size(); ++i) {
        const layer_events &a = cpu.spikes[i], &b = k.spikes[i];
        CAPTURE(a.name);
        CHECK(a.name == b.name);
        CHECK(a.n_neurons == b.n_neurons);
        CHECK(a.step == b.step);
        CHECK(a.token == b.token);
        CHECK(a.neuron == b.neuron);
        CHECK(a.membrane.size() == b.membrane.size());
        if (logit_tolerance == 0.0 && a.membrane.size() == b.membrane.size())
            CHECK(std::memcmp(a.membrane.data(), b.membrane.data(), a.membrane.size() * sizeof(float)) == 0);
    }
    return fired;
}

// Each model `base` + one of `models` (JSON members) through the CPU engine and through the kernel engine on
// `ex`: a batch of three sequences, two of `tokens` tokens and one shorter (two launch groups), and the first
// one again recorded with its membranes; all equal, and firing. Models whose name has "softmax" are compared
// with `softmax_tolerance` (expf is not the same function on every device).
template <class Exec, std::size_t M>
void check_models_on(Exec& ex, const std::string& base, const char* const (&models)[M], std::size_t tokens,
                     std::uint64_t seed, double softmax_tolerance = 0.0) {
    for (const char* m : models) {
        CAPTURE(m);
        const std::string model = m;
        const double tol = model.find("softmax") != std::string::npos ? softmax_tolerance : 0.0;
        const sim_network net = firing_network("{" + base + ", " + model + "}", seed);
        const std::vector<std::vector<std::int32_t>> seqs = {some_tokens(tokens, net.cfg.vocab, seed),
                                                             some_tokens(tokens - 3, net.cfg.vocab, seed + 1),
                                                             some_tokens(tokens, net.cfg.vocab, seed + 2)};
        ++seed;
        kernel_simulator<Exec> sim(ex, net);
        const std::vector<sim_result> got = sim.run(seqs);
        REQUIRE(got.size() == seqs.size());
        for (std::size_t i = 0; i < seqs.size(); ++i) {
            CAPTURE(i);
            CHECK(check_same_result(simulate(net, seqs[i]), got[i], tol) > 0);
        }
        const sim_result traced = sim.run({seqs[0]}, true, true).front();
        CHECK(check_same_result(simulate(net, seqs[0], true, true), traced, tol) > 0);
    }
}

}  // namespace wtasim::test
