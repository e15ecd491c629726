// One interface over the neuron kernels of every compiled backend (Arbor's backend struct, ggml's op
// dispatch): a table of functions with the reference's names and host-pointer arguments, held in the
// shared registry of core/backend_registry.hpp. `neuron_backend_named` is the only place outside cuda/
// folders that knows whether CUDA was built. A backend says what it supports; asking an unsupported
// kernel of it throws backend_error when the backend is chosen. (A resident CUDA caller uses the
// device-view entry points of neurons/cuda/lif.hpp instead of this table.)
#pragma once

#include <string>
#include <vector>

#include "neurons/lif.hpp"
#include "neurons/nilif.hpp"

namespace wtasim {

struct neuron_backend {
    std::string name;  // "reference", "cpu", "cuda"
    decltype(&wtasim::lif_forward) lif_forward = nullptr;
    decltype(&wtasim::lif_backward) lif_backward = nullptr;
    decltype(&wtasim::nilif_forward) nilif_forward = nullptr;  // null: not supported
    decltype(&wtasim::nilif_backward) nilif_backward = nullptr;

    bool supports_lif() const { return lif_forward && lif_backward; }
    bool supports_nilif() const { return nilif_forward && nilif_backward; }
};

// The names of the backends compiled into this build that can run here, reference first ("cuda" only
// with a device): what validators and --help texts offer.
std::vector<std::string> neuron_backend_names();
// The backend called `name`; throws backend_error naming the value, why it is absent (for "cuda") and the
// available backends: `neuron backend "x" is not available, expected one of reference, cpu`.
const neuron_backend& neuron_backend_named(const std::string& name);

}  // namespace wtasim
