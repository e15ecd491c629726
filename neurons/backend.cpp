// The neuron backend factory.
#include "neurons/backend.hpp"

#include "core/error.hpp"
#ifdef WTASIM_HAVE_CUDA
#include "neurons/cuda/lif.hpp"
#include "neurons/cuda/nilif.hpp"
#endif

namespace wtasim {
namespace {
const std::vector<neuron_backend>& all_backends() {
    static const std::vector<neuron_backend> backends = [] {
        std::vector<neuron_backend> v;
        v.push_back({"reference", &wtasim::lif_forward, &wtasim::lif_backward, &wtasim::nilif_forward,
                     &wtasim::nilif_backward});
        v.push_back({"cpu", &cpu::lif_forward, &cpu::lif_backward, &cpu::nilif_forward, &cpu::nilif_backward});
#ifdef WTASIM_HAVE_CUDA
        if (cuda::device_count() > 0)
            v.push_back({"cuda", &cuda::lif_forward, &cuda::lif_backward, &cuda::nilif_forward, &cuda::nilif_backward});
#endif
        return v;
    }();
    return backends;
}
}  // namespace

std::vector<std::string> neuron_backend_names() {
    std::vector<std::string> names;
    for (const auto& b : all_backends()) names.push_back(b.name);
    return names;
}

const neuron_backend& neuron_backend_named(const std::string& name) {
    for (const auto& b : all_backends())
        if (b.name == name) return b;
    std::string known;
    for (const auto& b : all_backends()) known += (known.empty() ? "" : ", ") + b.name;
    std::string why;
#ifdef WTASIM_HAVE_CUDA
    if (name == "cuda") why = " (this build has CUDA but no GPU is visible)";
#else
    if (name == "cuda") why = " (this build has no CUDA: nvcc was not found at configure time)";
#endif
    throw backend_error("neuron backend \"" + name + "\" is not available" + why + ", expected one of " + known);
}

}  // namespace wtasim
