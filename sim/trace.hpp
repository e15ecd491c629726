// HDF5 traces of simulated runs (docs/model.md §8), gzip-compressed and chunked so that h5py, HDFView and h5web open
// them without wtasim:
//   root attributes: format = "wtasim-trace", format_version, scenario (JSON), config (model JSON)
//   every dataset has string attributes units and description; strings are variable-length UTF-8
//   root attributes also: description, energy_profile (the profile of the *_pj tables)
//   /sequences/<s>/tokens int32 [N], /sequences/<s>/token_text strings [N], /sequences/<s>/logits float32 [N, V]
//   /sequences/<s>/layers/<layer>/spikes/{step, token, neuron} uint32 events sorted by step, then token
//       (attributes on the layer group: n_neurons, n_tokens, T)
//   /sequences/<s>/layers/<layer>/counts uint16 [T, N]: spikes per token and step (opens as a heat map)
//   /sequences/<s>/layers/<layer>/membrane float32 [T, N, C], when membranes were recorded
//   /sequences/<s>/attention/<block>/winners int32 [T, H, N, k] (-1 = none; attribute no_winner = -1), WTA models
//   /sequences/<s>/energy/layers uint64 [layers, classes], /sequences/<s>/energy/steps uint64 [T, classes],
//   and beside each the energy under the run's profile: layers_pj, steps_pj float64 (pJ)
//   /energy/layers, /energy/steps (and *_pj): the same summed over sequences; their rows and columns named by
//   the dimension scales /energy/layer, /energy/step and /energy/class (and the JSON attributes layer_names and
//   classes on /energy)
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "energy/profile.hpp"
#include "sim/engine.hpp"

namespace wtasim {

inline constexpr std::int64_t trace_format_version = 1;

// What a trace keeps: the chosen sequences (indices) and neuron layers (names); empty = all. Membranes are
// written as /sequences/<s>/layers/<layer>/membrane float32 [T, N, C] when the results carry them.
struct trace_selection {
    std::vector<std::uint64_t> sequences;
    std::vector<std::string> layers;
};

// What makes a trace explain itself beyond its counts: the text of every token id (the tokenizer's
// piece_texts(); empty: no token_text) and the profile whose energy (pJ) stands beside each count table (null:
// counts only).
struct trace_labels {
    std::vector<std::string> pieces;
    const energy_profile* profile = nullptr;
};

// `results` must come from simulate(..., record = true). Written atomically.
void write_trace(const std::string& path, const sim_network& net,
                 const std::vector<std::vector<std::int32_t>>& sequences, const std::vector<sim_result>& results,
                 const std::string& scenario_json, const trace_selection& keep = {}, const trace_labels& labels = {});

// `wtasim trace summary`: per layer in network order the events and firing rate, the operation and energy
// totals, and a small raster (steps x tokens) of the first sequence for each of `raster_layers` (empty: the
// busiest layer), with the first tokens' text.
void print_trace_summary(const std::string& path, std::ostream& out,
                         const std::vector<std::string>& raster_layers = {});

}  // namespace wtasim
