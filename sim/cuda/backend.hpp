// The simulator's CUDA backend (`backend: cuda`, docs/simulator.md): the kernel engine (sim/kernel_engine.hpp)
// with the GPU's executor, the folded network resident on the device for a batch, sequences of one length in
// parallel. Declared without CUDA headers so that sim/engine.cpp can register it; defined only in CUDA builds.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/engine.hpp"
#include "sim/stream.hpp"

namespace wtasim::cuda {

// "" when a GPU can run the simulator here, otherwise why not (no device visible, CUDA's own message).
std::string simulator_unavailable();

// simulate(net, seq, record, membranes) of every sequence on the GPU: the network is uploaded once, then the
// sequences run in batches of at most `max_batch` per launch group; `shown` counts each finished batch.
std::vector<sim_result> simulate_batch(const sim_network& net, const std::vector<std::vector<std::int32_t>>& sequences,
                                       bool record, bool membranes, progress* shown, std::size_t max_batch = 256);

// Streaming generation on the GPU (sim/stream.hpp's contract): the K/V spike cache stays on the device, each
// pushed token runs its T steps there, and its logits and counts come back; bit-identical to a
// full-sequence simulation on the GPU. `net` must outlive the decoder.
std::unique_ptr<kernel_decoder> make_stream(const sim_network& net);

}  // namespace wtasim::cuda
