// Small helpers shared by the neuron tests.
#pragma once

#include <cstdint>
#include <vector>

#include "neurons/backend.hpp"

namespace wtasim::test {

struct lif_run {
    std::vector<float> s, h;
    std::uint64_t spikes;
};

inline lif_run run_lif(const neuron_backend& b, const std::vector<float>& x, std::size_t T, const lif_params& p) {
    lif_run r{std::vector<float>(x.size()), std::vector<float>(x.size()), 0};
    r.spikes = b.lif_forward(r.s.data(), r.h.data(), x.data(), T, x.size() / T, p, nullptr, {});
    return r;
}

// The spike train of one neuron driven by the same input at every step, for every CPU backend.
inline std::vector<std::vector<float>> constant_drive(float input, std::size_t T, const lif_params& p) {
    std::vector<std::vector<float>> trains;
    for (const char* name : {"reference", "cpu"})
        trains.push_back(run_lif(neuron_backend_named(name), std::vector<float>(T, input), T, p).s);
    return trains;
}

}  // namespace wtasim::test
