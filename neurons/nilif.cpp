// Plain serial reference of the NI-LIF forward and straight-through backward (neurons/nilif.hpp); the
// update is the shared step of neurons/step.hpp.
#include "neurons/nilif.hpp"

#include <vector>

#include "neurons/step.hpp"

namespace wtasim {

std::uint64_t nilif_forward(float* s, float* u, const float* x, std::size_t T, std::size_t n, const nilif_params& p,
                            op_counts* ops) {
    p.validate();
    const nilif_coeffs c = nilif_coeffs_of(p);
    std::vector<float> hm(n, 0.0f);
    std::uint64_t events = 0;
    for (std::size_t t = 0; t < T; ++t) {
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t k = t * n + i;
            float level;
            s[k] = nilif_forward_step(hm[i], x[k], c, u[k], level);
            events += static_cast<std::uint64_t>(level);
        }
    }
    if (ops) ops->add(op_class::nu, T * n);
    return events;
}

void nilif_backward(float* dx, const float* ds, const float* u, std::size_t T, std::size_t n, const nilif_params& p) {
    p.validate();
    const nilif_coeffs c = nilif_coeffs_of(p);
    std::vector<float> grad_hm(n, 0.0f);  // dL/dHm[t], flowing back from step t+1
    for (std::size_t t = T; t-- > 0;) {
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t k = t * n + i;
            dx[k] = nilif_backward_step(grad_hm[i], ds[k], u[k], c);
        }
    }
}

}  // namespace wtasim
