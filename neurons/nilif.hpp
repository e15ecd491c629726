// Normalised integer LIF (NI-LIF), docs/model.md §2.2: integer-valued training, spike inference.
// With Hm[-1] = 0:
//   U[t]  = Hm[t-1] + X[t]
//   S[t]  = clip(round(U[t]), 0, D) / D            (round half to even; D = levels)
//   Hm[t] = beta (U[t] - D S[t])
// Backward (straight-through): dS/dU = 1/D where 0 <= U <= D, else 0. The Hm recursion is
// differentiated as written (autograd semantics), so dHm/dU = beta (1 - D dS/dU):
//   gU[t] = dS[t] ste(U[t]) / D + gHm[t] beta (1 - [0 <= U[t] <= D]),  gHm[t-1] = gU[t],  dX[t] = gU[t].
// At inference a level m = D S[t] is m binary events on D sub-steps of step t (docs/model.md §2.2).
// Layout [T, n] as for LIF.
#pragma once

#include <cstddef>
#include <cstdint>

#include "energy/op_counts.hpp"

namespace wtasim {

struct nilif_params {
    int levels = 4;
    float beta = 0.5f;

    void validate() const;
};

// Reference. Outputs s [T, n] in {0, 1/D, ..., 1} and the membrane u [T, n] (saved for backward).
// Adds T*n NU to `ops`. Returns the number of binary events, sum of levels m = D S.
std::uint64_t nilif_forward(float* s, float* u, const float* x, std::size_t T, std::size_t n, const nilif_params& p,
                            op_counts* ops = nullptr);
void nilif_backward(float* dx, const float* ds, const float* u, std::size_t T, std::size_t n, const nilif_params& p);

namespace cpu {
std::uint64_t nilif_forward(float* s, float* u, const float* x, std::size_t T, std::size_t n, const nilif_params& p,
                            op_counts* ops = nullptr);
void nilif_backward(float* dx, const float* ds, const float* u, std::size_t T, std::size_t n, const nilif_params& p);
}  // namespace cpu

}  // namespace wtasim
