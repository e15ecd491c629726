// One time step of one neuron, the single definition of the update that the serial references
// (neurons/lif.cpp, neurons/nilif.cpp) and the event-driven simulator (sim/) share; the fast backends
// are tested bit-identical against the references. Equations in neurons/lif.hpp and neurons/nilif.hpp.
#pragma once

#include <cmath>

#include "neurons/lif.hpp"
#include "neurons/nilif.hpp"

namespace wtasim {

// LIF: charges v with x, fires at or above v_th (returns 1 or 0), resets; `charged` receives H[t].
// `v_reset` is p.v_reset for a hard reset and 0 for a soft one.
inline float lif_step(float& v, float x, const lif_params& p, float v_reset, float& charged) {
    charged = p.decay_input ? v + (x - (v - v_reset)) / p.tau : v - (v - v_reset) / p.tau + x;
    const bool fire = charged >= p.v_th;
    const float spike = fire ? 1.0f : 0.0f;
    v = p.reset == reset_mode::hard ? (fire ? v_reset : charged) : charged - spike * p.v_th;
    return spike;
}

// NI-LIF: U = Hm + x, S = clip(round_half_even(U), 0, D) / D (never -0), Hm = beta (U - D S); returns S,
// `membrane` receives U.
inline float nilif_step(float& hm, float x, const nilif_params& p, float& membrane) {
    const auto levels = static_cast<float>(p.levels);
    membrane = hm + x;
    float level = std::nearbyint(membrane);
    level = level > 0.0f ? level : 0.0f;
    level = level < levels ? level : levels;
    const float spike = level / levels;
    hm = p.beta * (membrane - levels * spike);
    return spike;
}

}  // namespace wtasim
