// `wtasim simulate`: runs a trained spiking checkpoint on a prompt through the event-driven simulator,
// prints the model's next-token prediction (and a greedy continuation), and the energy report.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>

namespace wtasim {

struct simulate_options {
    std::string checkpoint;
    std::string text = "In the beginning God created";
    std::size_t generate = 0;
    std::string profile = "horowitz45-fp32";
    std::string report_json, report_md;
    std::string trace;  // HDF5 trace of the prompt's run (SPEC §8), when set
    std::string backend = "cpu";
    std::size_t threads = 0;
};

int run_simulate(const simulate_options& o, std::ostream& out);

}  // namespace wtasim
