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

// The plain serial reference. Outputs: spikes s [T, n] (0/1) and the pre-reset membrane h [T, n]
// (saved for backward). Adds T*n NU to `ops` if given. Returns the number of spikes.
std::uint64_t lif_forward(float* s, float* h, const float* x, std::size_t T, std::size_t n, const lif_params& p,
                          op_counts* ops = nullptr);
// dx [T, n] from the upstream gradient ds [T, n] and the forward's saved s and h.
void lif_backward(float* dx, const float* ds, const float* s, const float* h, std::size_t T, std::size_t n,
                  const lif_params& p);

namespace cpu {
// TBB-parallel, vectorisable versions; bit-identical to the reference for any thread count.
std::uint64_t lif_forward(float* s, float* h, const float* x, std::size_t T, std::size_t n, const lif_params& p,
                          op_counts* ops = nullptr);
void lif_backward(float* dx, const float* ds, const float* s, const float* h, std::size_t T, std::size_t n,
                  const lif_params& p);
}  // namespace cpu

}  // namespace wtasim
