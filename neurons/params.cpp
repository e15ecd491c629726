// Parameter validation and names shared by the neuron kinds.
#include <cmath>
#include <string>

#include "core/error.hpp"
#include "neurons/lif.hpp"
#include "neurons/nilif.hpp"
#include "neurons/surrogate.hpp"

namespace wtasim {

surrogate_kind surrogate_kind_from_name(const std::string& name) {
    if (name == "sigmoid") return surrogate_kind::sigmoid;
    if (name == "atan") return surrogate_kind::atan;
    throw config_error("surrogate \"" + name + "\" is unknown, expected \"sigmoid\" or \"atan\"");
}

const char* surrogate_kind_name(surrogate_kind k) {
    return k == surrogate_kind::sigmoid ? "sigmoid" : "atan";
}

void lif_params::validate() const {
    if (!(tau > 1.0f) || !std::isfinite(tau))
        throw config_error("lif: tau = " + std::to_string(tau) + ", must be > 1 and finite");
    if (!std::isfinite(v_th)) throw config_error("lif: v_th = " + std::to_string(v_th) + ", must be finite");
    if (!std::isfinite(v_reset)) throw config_error("lif: v_reset = " + std::to_string(v_reset) + ", must be finite");
    if (reset == reset_mode::hard && !(v_reset < v_th))
        throw config_error("lif: v_reset = " + std::to_string(v_reset) + ", must be < v_th = " + std::to_string(v_th));
    if (!(sg.alpha > 0.0f) || !std::isfinite(sg.alpha))
        throw config_error("lif: surrogate alpha = " + std::to_string(sg.alpha) + ", must be > 0");
}

void lif_channels::validate(std::size_t n) const {
    if (!any()) return;
    if (C == 0 || n % C != 0)
        throw internal_error("lif: per-channel constants for C = " + std::to_string(C) +
                             " channels, but n = " + std::to_string(n) + " neurons per step is not a multiple of C");
}

float plif_tau(float w) {
    return static_cast<float>(1.0 + std::exp(-double(w)));
}

float plif_w_of_tau(float tau) {
    return static_cast<float>(-std::log(double(tau) - 1.0));
}

void nilif_params::validate() const {
    if (levels < 1) throw config_error("nilif: levels = " + std::to_string(levels) + ", must be >= 1");
    if (!(beta >= 0.0f && beta <= 1.0f))
        throw config_error("nilif: beta = " + std::to_string(beta) + ", must be in [0, 1]");
}

}  // namespace wtasim
