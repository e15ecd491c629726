// Internal to sim/: the cpu backend's layer-major engine (sim/layer_major.cpp). The same results as the
// step-major reference, simulate() in sim/engine.cpp, bit for bit; faster because the weights are read once
// per group of sequences instead of once per step of each.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/engine.hpp"

namespace wtasim::sim_detail {

// The results of simulate(net, *seqs[s], record, membranes) for s < S, computed as one group.
std::vector<sim_result> simulate_layer_major(const sim_network& net, const std::vector<std::int32_t>* const* seqs,
                                             std::size_t S, bool record, bool membranes);

// A whole batch: contiguous groups of about group_rows rows (sequence length x T each), at least one per
// thread while there are sequences enough, the groups in parallel; `shown` counts each finished group.
std::vector<sim_result> simulate_grouped(const sim_network& net,
                                         const std::vector<std::vector<std::int32_t>>& sequences, progress* shown,
                                         bool record, bool membranes);

}  // namespace wtasim::sim_detail
