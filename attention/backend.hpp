// The attention backend table (as neurons/backend.hpp for neurons): the kernels of one backend under the
// reference's names. `attention_backend_named` is the one place that chooses; a backend that is not
// there (e.g. "cuda" before the CUDA attention kernels exist) throws backend_error when a block is built,
// not in the middle of a run.
#pragma once

#include <string>
#include <vector>

#include "attention/attention.hpp"

namespace wtasim {

struct attention_backend {
    std::string name;  // "reference", "cpu"
    decltype(&wtasim::attention_forward) forward = nullptr;
    decltype(&wtasim::attention_backward) backward = nullptr;
    bool binary_qk_only = false;  // scores by popcount: Q and K must be spikes
};

std::vector<std::string> attention_backend_names();
const attention_backend& attention_backend_named(const std::string& name);

}  // namespace wtasim
