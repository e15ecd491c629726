// Energy reports (docs/model.md §7) from per-layer operation counts: totals per class, the paper convention
// (4.6 pJ x MAC + 0.9 pJ x AC), the full-profile total, energy per token, the ANN twin's energy counted the
// same way and the ratio, and NeuroBench-compatible keys, with attention's activation-by-activation
// operations reported separately (NeuroBench does not count them). As JSON and as Markdown.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "energy/op_counts.hpp"
#include "energy/profile.hpp"

namespace wtasim {

struct layer_counts {
    std::string name;
    op_counts ops;
    std::uint64_t events = 0;   // spikes emitted (neuron layers)
    std::uint64_t neurons = 0;  // neuron-steps (neuron layers)
    std::uint64_t active = 0;   // neuron-steps with a non-zero output (NeuroBench's activation count)
    bool attention = false;     // score / selection / gather work between activations
};

struct energy_inputs {
    std::string model;                     // a short description
    std::uint64_t tokens = 0;              // real tokens processed
    std::uint64_t footprint_bytes = 0;     // parameters, as stored
    std::uint64_t dense_synaptic_ops = 0;  // synaptic ops if every neuron fired every step
    std::vector<layer_counts> layers;
    op_counts ann;  // the equal-size ANN twin on the same tokens
};

std::string energy_report_json(const energy_inputs& in, const energy_profile& profile);
std::string energy_report_markdown(const energy_inputs& in, const energy_profile& profile);
// A self-contained HTML page (inline SVG charts, no scripts, no external files): energy by layer and
// class, firing rate by layer, SNN against the ANN twin, and the tables of the Markdown report.
std::string energy_report_html(const energy_inputs& in, const energy_profile& profile);

}  // namespace wtasim
