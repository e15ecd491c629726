// Leaky integrate-and-fire neurons, multi-step, exactly as docs/model.md §2.1 (SpikingJelly LIFNode semantics).
// With V[-1] = v_reset (0 for soft reset):
//   decay_input:   H[t] = V[t-1] + (X[t] - (V[t-1] - v_reset)) / tau
//   otherwise:     H[t] = V[t-1] - (V[t-1] - v_reset) / tau + X[t]
//   S[t] = H[t] >= v_th                         (fires AT the threshold)
//   hard reset:    V[t] = S[t] v_reset + (1 - S[t]) H[t]
//   soft reset:    V[t] = H[t] - S[t] v_th      (v_reset is not used; SpikingJelly's v_reset=None)
// Backward (BPTT over all T): dS/dH = g(H - v_th); with detach_reset the reset term has no gradient.
//   gH[t]   = dS[t] g(H[t] - v_th) + gV[t] dV/dH[t],    gV[t-1] = gH[t] (1 - 1/tau)
//   dX[t]   = gH[t] / tau (decay_input) or gH[t]
//   dV/dH   = 1 - S + [!detach] (v_reset - H) g           (hard)
//           = 1 - [!detach] v_th g                         (soft)
// Layout: every tensor is [T, n] with time outermost (n = B x N x C flattened); neurons are independent.
// The backward takes the saved S and H of the forward. With relaxed (real-valued) S it is the exact
// derivative of the relaxed forward, which is how the tests check it against finite differences.
// Learnable constants (docs/model.md §2.1, §10): optional per-channel tau[C] and v_th[C] (neuron i is in
// channel i % C). The backward can also return, per neuron, the sums over t of
//   dL/dtau  = gH[t] dH[t]/dtau,  dH/dtau = -(H[t] - V[t-1]) / tau  (decay_input)  or  (V[t-1] - v_r) / tau^2
//   dL/dv_th = -dS[t] g + gV[t] dV[t]/dv_th,  dV/dv_th = [!detach] (H - v_reset) g  (hard)
//                                                      = -S + [!detach] v_th g      (soft)
// with V[t-1] recomputed from the saved S[t-1], H[t-1] (V[-1] = v_r). PLIF: tau = 1 + exp(-w).
#pragma once

#include <cstddef>
#include <cstdint>

#include "energy/op_counts.hpp"
#include "neurons/surrogate.hpp"

namespace wtasim {

enum class reset_mode { hard, soft };

struct lif_params {
    float tau = 2.0f;
    float v_th = 1.0f;
    float v_reset = 0.0f;
    bool decay_input = true;
    bool detach_reset = true;
    reset_mode reset = reset_mode::hard;
    surrogate sg = surrogate::sigmoid();

    // Throws config_error when a value is outside its domain (tau must be > 1, ...).
    void validate() const;
};

// Per-channel constants of a layer whose tau and/or v_th are learned: a null pointer means p.tau / p.v_th
// for every neuron. Neuron i (of the n per step) is in channel i % C, so n must be a multiple of C.
struct lif_channels {
    const float* tau = nullptr;   // [C]
    const float* v_th = nullptr;  // [C]
    std::size_t C = 1;

    WTASIM_HOST_DEVICE bool any() const { return tau != nullptr || v_th != nullptr; }
    // Throws internal_error when C is 0 or does not divide n.
    void validate(std::size_t n) const;
};

// PLIF: tau = 1 + exp(-w), evaluated in double and rounded once to float (every backend, the simulator
// and the PyTorch twin compute it so); and the w that starts at a given tau, w = -log(tau - 1).
float plif_tau(float w);
float plif_w_of_tau(float tau);

// The plain serial reference. Outputs: spikes s [T, n] (0/1) and the pre-reset membrane h [T, n]
// (saved for backward). Adds T*n NU to `ops` if given. Returns the number of spikes.
std::uint64_t lif_forward(float* s, float* h, const float* x, std::size_t T, std::size_t n, const lif_params& p,
                          op_counts* ops = nullptr, const lif_channels& ch = {});
// dx [T, n] from the upstream gradient ds [T, n] and the forward's saved s and h; with `ch` as in the
// forward. dtau, dv_th [n] (each may be null): per neuron, the sums over t of dL/dtau and dL/dv_th.
void lif_backward(float* dx, const float* ds, const float* s, const float* h, std::size_t T, std::size_t n,
                  const lif_params& p, const lif_channels& ch = {}, float* dtau = nullptr, float* dv_th = nullptr);

namespace cpu {
// TBB-parallel, vectorisable versions; bit-identical to the reference for any thread count.
std::uint64_t lif_forward(float* s, float* h, const float* x, std::size_t T, std::size_t n, const lif_params& p,
                          op_counts* ops = nullptr, const lif_channels& ch = {});
void lif_backward(float* dx, const float* ds, const float* s, const float* h, std::size_t T, std::size_t n,
                  const lif_params& p, const lif_channels& ch = {}, float* dtau = nullptr, float* dv_th = nullptr);
}  // namespace cpu

}  // namespace wtasim
