// The backend tables of the attention folder (as neurons/backend.hpp for neurons), each a registry of
// core/backend_registry.hpp with the reference first:
// - attention_backend: the attention kernels of attention/attention.hpp (spike Q, K and, for the ANN
//   twin, real-valued softmax attention);
// - linear_backend: the linear maps of attention/linear.hpp (spike and dense forms, both backward halves).
// `<family>_backend_named` is the one place that chooses; a name that is not there (e.g. "cuda" before
// the CUDA attention kernels exist) throws backend_error when a block is built, not in the middle of a
// run. `block_backend_names` lists what a model's block.backend may be.
#pragma once

#include <string>
#include <vector>

#include "attention/attention.hpp"
#include "attention/linear.hpp"

namespace wtasim {

struct attention_backend {
    std::string name;  // "reference", "cpu"
    decltype(&wtasim::attention_forward) forward = nullptr;
    decltype(&wtasim::attention_backward) backward = nullptr;
    bool binary_qk_only = false;  // scores by popcount: Q and K must be spikes
    // Softmax attention on real-valued Q, K, V (the ANN twin); cfg.kind must be softmax.
    decltype(&cpu::real_attention_forward) real_forward = nullptr;
    decltype(&cpu::real_attention_backward) real_backward = nullptr;
};

std::vector<std::string> attention_backend_names();
// backend_error `attention backend "x" is not available, expected one of reference, cpu` when absent.
const attention_backend& attention_backend_named(const std::string& name);

struct linear_backend {
    std::string name;  // "reference", "cpu"
    decltype(&wtasim::linear_forward_spikes) forward_spikes = nullptr;
    decltype(&wtasim::linear_forward_dense) forward_dense = nullptr;
    decltype(&wtasim::linear_backward_input) backward_input = nullptr;
    decltype(&wtasim::linear_backward_weight_spikes) backward_weight_spikes = nullptr;
    decltype(&wtasim::linear_backward_weight_dense) backward_weight_dense = nullptr;
};

std::vector<std::string> linear_backend_names();
// backend_error `linear backend "x" is not available, expected one of reference, cpu` when absent.
const linear_backend& linear_backend_named(const std::string& name);

// The names a spiking block's `backend` may take: those every family the block draws kernels from has
// (neurons, attention, linear), in registry order — "reference", "cpu" in every build today, since
// there are no CUDA attention kernels. (The block takes its neuron and attention kernels by this name;
// its linear layers use the cpu linear kernels whatever the name, which keeps the reference and cpu
// blocks bit-identical: the reference dense input gradient is not BLAS's summation order.)
std::vector<std::string> block_backend_names();

}  // namespace wtasim
