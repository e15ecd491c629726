// The kernel engine (sim/kernel_engine.hpp) with the GPU's executor (sim/cuda/executor.hpp) against the CPU
// engine on whole models: logits, every layer's counts, events, winners and traces bit for bit (softmax
// attention: logits within 1e-4 of the largest). Label `cuda`: needs a GPU.
#include <doctest/doctest.h>

#include "kernel_checks.hpp"
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
        R"("causal": true, "neuron": "lif", "attention": {"kind": "ssa", "recency": "shift"})",
        R"("causal": false, "neuron": "nilif", "attention": {"kind": "softmax"})",
        R"("causal": false, "neuron": "nilif", "attention": {"kind": "wta", "k": 2},
           "task": {"name": "tag", "readout": "token", "outputs": 5})",
        R"("causal": true, "neuron": "lif", "attention": {"kind": "wta"},
           "task": {"name": "cls", "readout": "sequence", "outputs": 3})",
    };
    cuda::executor ex;
    test::check_models_on(ex, base, models, 29, 7, 1e-4);
}
