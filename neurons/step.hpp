// One time step of one neuron, forward and backward: the single definition of the LIF and NI-LIF
// equations (neurons/lif.hpp, neurons/nilif.hpp; docs/model.md §2) that every backend calls — the
// serial references (neurons/lif.cpp, nilif.cpp), the TBB/SIMD loops (neurons/cpu/), the CUDA kernels
// (neurons/cuda/) and the event-driven simulator (sim/). The functions are host-device and branch-free
// over neurons, so a loop over neurons that calls them still vectorises, and with -ffp-contract=off /
// --fmad=false every backend produces the reference's bits.
// A backend that fixes some flags at compile time (the cpu loops) sets them in its local copy of the
// coefficients; once the step is inlined the compiler folds those branches away.
#pragma once

#include "core/host_device.hpp"
#include "neurons/lif.hpp"
#include "neurons/nilif.hpp"
#include "neurons/surrogate.hpp"

namespace wtasim {

// A LIF layer's constants as the step functions take them: plain data, passed to kernels by value.
struct lif_coeffs {
    float tau, v_th;
    float v_reset;  // V[-1] and the hard-reset target: p.v_reset for a hard reset, 0 for a soft one
    float leak;     // dH[t] / dV[t-1] = 1 - 1/tau, in both decay forms
    float alpha;    // surrogate slope
    surrogate_kind kind;
    bool decay_input, detach_reset, hard;
};

WTASIM_HOST_DEVICE inline lif_coeffs lif_coeffs_of(const lif_params& p) {
    lif_coeffs c{};
    c.tau = p.tau;
    c.v_th = p.v_th;
    c.hard = p.reset == reset_mode::hard;
    c.v_reset = c.hard ? p.v_reset : 0.0f;
    c.leak = 1.0f - 1.0f / p.tau;
    c.alpha = p.sg.alpha;
    c.kind = p.sg.kind;
    c.decay_input = p.decay_input;
    c.detach_reset = p.detach_reset;
    return c;
}

// Forward: charges v = V[t-1] with x = X[t], writes H[t] to `charged`, fires at or above v_th, resets v
// to V[t]; returns S[t] (1 or 0).
WTASIM_HOST_DEVICE inline float lif_forward_step(float& v, float x, const lif_coeffs& c, float& charged) {
    const float h = c.decay_input ? v + (x - (v - c.v_reset)) / c.tau : v - (v - c.v_reset) / c.tau + x;
    const float spike = h >= c.v_th ? 1.0f : 0.0f;
    v = c.hard ? (h >= c.v_th ? c.v_reset : h) : h - spike * c.v_th;
    charged = h;
    return spike;
}

// The coefficients of neuron i of a layer with per-channel constants (neurons/lif.hpp lif_channels): tau,
// its leak and v_th of channel i % C where given. The leak is the same expression as in lif_coeffs_of, so
// a channel whose tau equals p.tau gets the scalar path's bits.
WTASIM_HOST_DEVICE inline lif_coeffs lif_channel_coeffs(lif_coeffs c, const lif_channels& ch, std::size_t i) {
    const std::size_t channel = i % ch.C;
    if (ch.tau) {
        c.tau = ch.tau[channel];
        c.leak = 1.0f - 1.0f / c.tau;
    }
    if (ch.v_th) c.v_th = ch.v_th[channel];
    return c;
}

// V[t] from the saved S[t] and H[t] (the backward's recomputation of the forward's reset; for a binary S
// it gives the forward's exact value): hard  S v_r + (1 - S) H,  soft  H - S v_th.
WTASIM_HOST_DEVICE inline float lif_reset_membrane(float s, float h, const lif_coeffs& c) {
    return c.hard ? s * c.v_reset + (1.0f - s) * h : h - s * c.v_th;
}

// dL/dH[t] from dL/dS[t], the saved S[t], H[t] and grad_v = dL/dV[t]; g receives the surrogate at H - v_th.
WTASIM_HOST_DEVICE inline float lif_grad_h(float& g, float grad_v, float ds, float s, float h, const lif_coeffs& c) {
    g = surrogate_grad(c.kind, c.alpha, h - c.v_th);
    const float dv_dh = c.hard ? (1.0f - s) + (c.detach_reset ? 0.0f : (c.v_reset - h) * g)
                               : 1.0f - (c.detach_reset ? 0.0f : c.v_th * g);
    return ds * g + grad_v * dv_dh;
}

// Backward (BPTT, reverse time): from dL/dS[t] and the forward's saved S[t], H[t], with grad_v = dL/dV[t]
// flowing back from step t+1 (0 after the last step); leaves dL/dV[t-1] in grad_v and returns dL/dX[t].
WTASIM_HOST_DEVICE inline float lif_backward_step(float& grad_v, float ds, float s, float h, const lif_coeffs& c) {
    float g;
    const float grad_h = lif_grad_h(g, grad_v, ds, s, h, c);
    grad_v = grad_h * c.leak;
    return c.decay_input ? grad_h / c.tau : grad_h;
}

// The same step that also adds this step's dL/dtau to `dtau` and dL/dv_th to `dv_th` (neurons/lif.hpp),
// given v_prev = V[t-1] (lif_reset_membrane of step t-1, or v_r at t = 0).
WTASIM_HOST_DEVICE inline float lif_backward_step(float& grad_v, float& dtau, float& dv_th, float ds, float s, float h,
                                                  float v_prev, const lif_coeffs& c) {
    float g;
    const float grad_h = lif_grad_h(g, grad_v, ds, s, h, c);
    const float dh_dtau = c.decay_input ? -(h - v_prev) / c.tau : (v_prev - c.v_reset) / (c.tau * c.tau);
    const float dv_dvth =
        c.hard ? (c.detach_reset ? 0.0f : (h - c.v_reset) * g) : (c.detach_reset ? 0.0f : c.v_th * g) - s;
    dtau += grad_h * dh_dtau;
    dv_th += grad_v * dv_dvth - ds * g;
    grad_v = grad_h * c.leak;
    return c.decay_input ? grad_h / c.tau : grad_h;
}

// An NI-LIF layer's constants: D = levels as a float, and the leak beta.
struct nilif_coeffs {
    float levels, beta;
};

WTASIM_HOST_DEVICE inline nilif_coeffs nilif_coeffs_of(const nilif_params& p) {
    return {static_cast<float>(p.levels), p.beta};
}

// Forward: U = Hm + x (written to `membrane`), m = clip(round_half_even(U), 0, D) (written to `level`,
// never -0), Hm = beta (U - D S); returns S = m / D.
WTASIM_HOST_DEVICE inline float nilif_forward_step(float& hm, float x, const nilif_coeffs& c, float& membrane,
                                                   float& level) {
    const float u = hm + x;
    float m = round_half_even(u);
    m = m > 0.0f ? m : 0.0f;  // also turns -0 into +0
    m = m < c.levels ? m : c.levels;
    const float spike = m / c.levels;
    hm = c.beta * (u - c.levels * spike);
    membrane = u;
    level = m;
    return spike;
}

// Backward (straight-through): from dL/dS[t] and the saved U[t], with grad_hm = dL/dHm[t] from step t+1;
// leaves dL/dHm[t-1] in grad_hm and returns dL/dX[t].
WTASIM_HOST_DEVICE inline float nilif_backward_step(float& grad_hm, float ds, float u, const nilif_coeffs& c) {
    const float ste = (u >= 0.0f && u <= c.levels) ? 1.0f / c.levels : 0.0f;
    const float grad_u = ds * ste + grad_hm * c.beta * (1.0f - c.levels * ste);
    grad_hm = grad_u;
    return grad_u;
}

// One-neuron forms on the parameter structs, for the simulator's population step (sim/detail.hpp).
// `v_reset` is p.v_reset for a hard reset and 0 for a soft one.
inline float lif_step(float& v, float x, const lif_params& p, float v_reset, float& charged) {
    lif_coeffs c = lif_coeffs_of(p);
    c.v_reset = v_reset;
    return lif_forward_step(v, x, c, charged);
}
// ... and of neuron i of a layer with per-channel constants.
inline float lif_step(float& v, float x, const lif_params& p, float v_reset, const lif_channels& ch, std::size_t i,
                      float& charged) {
    lif_coeffs c = lif_coeffs_of(p);
    c.v_reset = v_reset;
    return lif_forward_step(v, x, lif_channel_coeffs(c, ch, i), charged);
}
inline float nilif_step(float& hm, float x, const nilif_params& p, float& membrane) {
    float level;
    return nilif_forward_step(hm, x, nilif_coeffs_of(p), membrane, level);
}

}  // namespace wtasim
