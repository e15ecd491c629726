// Run scenarios: what `wtasim run <scenario.json>` does, as a documented, validated JSON file
// (schema in docs/scenarios.md). A run loads a trained spiking checkpoint, feeds it a prompt or sequences
// of a corpus split through the event-driven simulator, and writes the energy report (Markdown, JSON,
// HTML) and, when asked, an HDF5 trace. Every error names the file, the JSON path, the value and what was
// expected; files that must exist are checked when the scenario is loaded, not mid-run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "energy/report.hpp"
#include "model/checkpoint.hpp"
#include "sim/engine.hpp"
#include "sim/report_inputs.hpp"

namespace wtasim {

struct run_scenario {
    std::string origin;  // the scenario file
    std::string json;    // as given
    std::string checkpoint;
    // input: a prompt (text, generate) or a corpus split (corpus, split, sequences, seq_len)
    std::string text;
    std::size_t generate = 0;
    std::string corpus, split = "valid", data_dir = "data";
    std::size_t sequences = 4, seq_len = 32;
    std::string backend = "cpu";
    std::size_t threads = 0;
    std::size_t batch = 0;  // sequences simulated together (in parallel on "cpu"); 0 = all at once
    std::size_t T = 0;      // time steps; 0 = the checkpoint's (another T changes the model's behaviour)
    std::string profile = "horowitz45-fp32";
    std::string trace, report_json, report_md, report_html;
    std::vector<std::uint64_t> trace_sequences;  // empty: all
    std::vector<std::string> trace_layers;       // empty: all
    bool trace_membranes = false;

    static run_scenario from_json(const std::string& text, const std::string& origin);
    static run_scenario load(const std::string& path);
};

// Runs it; prints the result and the energy summary. Returns 0.
int run(const run_scenario& s, std::ostream& out);

// The line every simulating command prints: "simulation: 32 sequences, 4096 tokens in 2.31 s wall: 1773 tokens/s
// (2 threads, cpu backend)"; `seconds` is the wall time of the simulation alone.
std::string simulation_speed(const std::vector<std::vector<std::int32_t>>& seqs, double seconds,
                             const std::string& backend, bool traced = false);

}  // namespace wtasim
