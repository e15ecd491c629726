// The surrogate-relaxed LIF forward in double (docs/model.md §2.1 with the spike replaced by the surrogate's
// primitive): the smooth function whose exact derivative the BPTT backward is, so that finite differences of it
// check the backward. Per-channel tau [C] and v_th [C] (neuron i in channel i % C; C = 1: the layer's scalars).
// `frozen` (optional) supplies the S used in the reset term (detach_reset: the unperturbed spikes).
#pragma once

#include <cstddef>
#include <vector>

#include "neurons/lif.hpp"
#include "neurons/surrogate.hpp"

namespace wtasim::test {

struct relaxed_lif_out {
    std::vector<double> s, h;
};

inline relaxed_lif_out relaxed_lif(const std::vector<double>& x, std::size_t T, std::size_t C,
                                   const std::vector<double>& tau, const std::vector<double>& v_th, const lif_params& p,
                                   const std::vector<double>* frozen) {
    const std::size_t n = x.size() / T;
    const bool hard = p.reset == reset_mode::hard;
    const double v_r = hard ? p.v_reset : 0.0;
    relaxed_lif_out r{std::vector<double>(x.size()), std::vector<double>(x.size())};
    std::vector<double> v(n, v_r);
    for (std::size_t t = 0; t < T; ++t)
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t k = t * n + i, c = i % C;
            const double h =
                p.decay_input ? v[i] + (x[k] - (v[i] - v_r)) / tau[c] : v[i] - (v[i] - v_r) / tau[c] + x[k];
            r.h[k] = h;
            r.s[k] = surrogate_primitive(p.sg, h - v_th[c]);
            const double sr = frozen ? (*frozen)[k] : r.s[k];
            v[i] = hard ? sr * v_r + (1 - sr) * h : h - sr * v_th[c];
        }
    return r;
}

// The layer's own scalar tau and v_th.
inline relaxed_lif_out relaxed_lif(const std::vector<double>& x, std::size_t T, const lif_params& p,
                                   const std::vector<double>* frozen) {
    return relaxed_lif(x, T, 1, {double(p.tau)}, {double(p.v_th)}, p, frozen);
}

}  // namespace wtasim::test
