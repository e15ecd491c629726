// Energy reports (docs/model.md §7) from per-layer operation counts: totals per class, the paper convention
// (4.6 pJ x MAC + 0.9 pJ x AC), the full-profile total, energy per token, the ANN twin's energy counted the
// same way and the ratio, and NeuroBench-compatible keys, with attention's activation-by-activation
// operations reported separately (NeuroBench does not count them). As JSON, Markdown and HTML.
// A report says what it measured and where it came from: the task with its metric, score and number of
// examples (task runs), energy per example and per token, and its provenance (checkpoint, scenario, wtasim
// version, date, profile and the profile's source). Each table has one unit, named in its title; the HTML
// page draws its figures as inline SVG with axes, units and legends, each downloadable as an .svg file.
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
    std::uint64_t events = 0;                     // spikes emitted (neuron layers)
    std::uint64_t neurons = 0;                    // neuron-steps (neuron layers)
    std::uint64_t active = 0;                     // neuron-steps with a non-zero output (NeuroBench's activation count)
    bool attention = false;                       // score / selection / gather work between activations
    std::vector<std::uint64_t> step_events = {};  // [T]: events of each time step (neuron layers)
};

struct report_provenance {
    std::string checkpoint;  // the simulated checkpoint
    std::string scenario;    // the scenario file, or "command line"
    std::string command;     // "wtasim run", "wtasim task", ...
    std::string created;     // UTC, ISO 8601 (report_timestamp())
};

// A task run's result beside its energy; NaN = not measured.
struct report_task {
    std::string name, metric;
    double score = 0, ann_score = 0, majority = 0;
    std::uint64_t examples = 0;
};

// The spikes of one neuron layer over one traced sequence, for the report's raster.
struct spike_raster {
    std::string layer;                // empty: no raster
    std::vector<std::string> tokens;  // the text of each token
    std::size_t neurons = 0, steps = 0;
    std::vector<std::uint32_t> step, token, neuron;  // one entry per event
};

struct energy_inputs {
    std::string model;                     // a short description
    std::uint64_t tokens = 0;              // real tokens processed
    std::uint64_t footprint_bytes = 0;     // parameters, as stored
    std::uint64_t dense_synaptic_ops = 0;  // synaptic ops if every neuron fired every step
    std::vector<layer_counts> layers;
    op_counts ann;  // the equal-size ANN twin on the same tokens
    // the twin's operations by part ("embed", "blocks.<l>", "head"), summing to `ann`; the SNN's layers are
    // grouped the same way for the per-layer comparison
    std::vector<std::pair<std::string, op_counts>> ann_parts;
    std::uint64_t examples = 0;  // task runs: the evaluated examples (energy per example); 0 otherwise
    report_provenance provenance;
    bool has_task = false;
    report_task task;
    spike_raster raster;
};

// Now in UTC, ISO 8601 ("2026-12-02T18:30:05Z"); SOURCE_DATE_EPOCH, when set, is used instead of the clock so
// that a report can be reproduced byte for byte.
std::string report_timestamp();
// The part of the ANN twin a layer of the SNN belongs to: "blocks.1.attn.q" -> "blocks.1", "sn_final" -> "head".
std::string report_part(const std::string& layer);

std::string energy_report_json(const energy_inputs& in, const energy_profile& profile);
std::string energy_report_markdown(const energy_inputs& in, const energy_profile& profile);
// A self-contained HTML page (inline SVG charts, no scripts, no external files): energy by layer and
// class, firing rate by layer, SNN against the ANN twin, and the tables of the Markdown report.
std::string energy_report_html(const energy_inputs& in, const energy_profile& profile);

}  // namespace wtasim
