// `wtasim demo`: the neuron demo (the main job until the simulator lands).
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>

namespace wtasim {

struct demo_options {
    std::string neuron = "lif";
    std::string backend = "cpu";
    std::size_t threads = 0;
    std::size_t steps = 16;
    std::size_t neurons = 4096;
    std::string profile = "horowitz45-fp32";
};

int run_demo(const demo_options& o, std::ostream& out);

}  // namespace wtasim
