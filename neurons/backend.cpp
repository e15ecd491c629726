// The neuron backend table: the registry of neurons/backend.hpp, and the one place outside cuda/
// folders that knows whether CUDA was built and a device is visible.
#include "neurons/backend.hpp"

#include "core/backend_registry.hpp"
#ifdef WTASIM_HAVE_CUDA
#include "neurons/cuda/lif.hpp"
#include "neurons/cuda/nilif.hpp"
#endif

namespace wtasim {
namespace {
const backend_registry<neuron_backend>& registry() {
    static const backend_registry<neuron_backend> r = [] {
        std::vector<neuron_backend> v;
        std::vector<backend_registry<neuron_backend>::absent> absent;
        v.push_back({"reference", &wtasim::lif_forward, &wtasim::lif_backward, &wtasim::nilif_forward,
                     &wtasim::nilif_backward});
        v.push_back({"cpu", &cpu::lif_forward, &cpu::lif_backward, &cpu::nilif_forward, &cpu::nilif_backward});
#ifdef WTASIM_HAVE_CUDA
        if (cuda::device_count() > 0)
            v.push_back({"cuda", &cuda::lif_forward, &cuda::lif_backward, &cuda::nilif_forward, &cuda::nilif_backward});
        else
            absent.push_back({"cuda", "this build has CUDA but no GPU is visible"});
#else
        absent.push_back({"cuda", "this build has no CUDA: nvcc was not found at configure time"});
#endif
        return backend_registry<neuron_backend>("neuron", std::move(v), std::move(absent));
    }();
    return r;
}
}  // namespace

std::vector<std::string> neuron_backend_names() {
    return registry().names();
}

const neuron_backend& neuron_backend_named(const std::string& name) {
    return registry().named(name);
}

}  // namespace wtasim
