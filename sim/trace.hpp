// HDF5 traces of simulated runs (docs/model.md §8), gzip-compressed and chunked so that h5py, HDFView and h5web open
// them without wtasim:
//   root attributes: format = "wtasim-trace", format_version, scenario (JSON), config (model JSON)
//   /sequences/<s>/tokens int32 [N], /sequences/<s>/logits float32 [N, V]
//   /sequences/<s>/layers/<layer>/spikes/{step, token, neuron} uint32 events sorted by step, then token
//       (attributes on the layer group: n_neurons, n_tokens, T)
//   /sequences/<s>/layers/<layer>/counts uint16 [T, N]: spikes per token and step (opens as a heat map)
//   /sequences/<s>/layers/<layer>/membrane float32 [T, N, C], when membranes were recorded
//   /sequences/<s>/attention/<block>/winners int32 [T, H, N, k] (-1 = none), WTA models
//   /sequences/<s>/energy/layers uint64 [layers, classes], /sequences/<s>/energy/steps uint64 [T, classes]
//   /energy/layers, /energy/steps: the same summed over sequences; attributes layer_names and classes (JSON)
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "sim/engine.hpp"

namespace wtasim {

inline constexpr std::int64_t trace_format_version = 1;

// What a trace keeps: the chosen sequences (indices) and neuron layers (names); empty = all. Membranes are
// written as /sequences/<s>/layers/<layer>/membrane float32 [T, N, C] when the results carry them.
struct trace_selection {
    std::vector<std::uint64_t> sequences;
    std::vector<std::string> layers;
};

// `results` must come from simulate(..., record = true). Written atomically.
void write_trace(const std::string& path, const sim_network& net,
                 const std::vector<std::vector<std::int32_t>>& sequences, const std::vector<sim_result>& results,
                 const std::string& scenario_json, const trace_selection& keep = {});

// `wtasim trace summary`: per layer the events and firing rate, the energy totals, and a small raster
// (tokens x steps) of the busiest layer of the first sequence.
void print_trace_summary(const std::string& path, std::ostream& out);

}  // namespace wtasim
