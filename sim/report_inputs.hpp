// What an energy report (energy/report.hpp) needs from a simulation: every layer's counts summed over the
// simulated sequences, the checkpoint's footprint, the dense synaptic operations, and the equal-size ANN
// twin's operation counts on the same sequences (docs/model.md §7). The twin's counts depend on the sizes
// and the token counts alone, so they are computed from them, without running the twin (a test checks
// them against the twin's own dense forward).
#pragma once

#include <cstdint>
#include <vector>

#include "energy/report.hpp"
#include "model/checkpoint.hpp"
#include "model/config.hpp"
#include "sim/engine.hpp"

namespace wtasim {

// The ANN twin of `spiking` (same D, H, F, L, vocabulary and head: LM or task) on `seqs` (all tokens real).
op_counts ann_twin_counts(const model_config& spiking, const std::vector<std::vector<std::int32_t>>& seqs);
// The same counts by part: "embed" (the position add), "blocks.<l>", "head"; they sum to ann_twin_counts.
std::vector<std::pair<std::string, op_counts>> ann_twin_parts(const model_config& spiking,
                                                              const std::vector<std::vector<std::int32_t>>& seqs);
// The raster of one recorded sequence (simulate(..., record = true)): layer `layer`, or the neuron layer with
// the most events outside attention when empty; at most `max_tokens` tokens and `max_neurons` neurons. `pieces` are the
// tokenizer's piece texts (tokenizer::piece_texts()).
spike_raster raster_of(const sim_result& recorded, const std::vector<std::int32_t>& seq,
                       const std::vector<std::string>& pieces, std::size_t T, const std::string& layer = "",
                       std::size_t max_tokens = 64, std::size_t max_neurons = 128);
// The report inputs of `results`, simulated from `seqs` with checkpoint `c` (config `cfg`).
energy_inputs simulated_energy(const checkpoint& c, const model_config& cfg,
                               const std::vector<std::vector<std::int32_t>>& seqs,
                               const std::vector<sim_result>& results);

}  // namespace wtasim
