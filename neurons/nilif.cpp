// Plain serial reference of the NI-LIF forward and straight-through backward (neurons/nilif.hpp).
#include "neurons/nilif.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "neurons/step.hpp"

namespace wtasim {

std::uint64_t nilif_forward(float* s, float* u, const float* x, std::size_t T, std::size_t n, const nilif_params& p,
                            op_counts* ops) {
    p.validate();
    const auto levels = static_cast<float>(p.levels);
    std::vector<float> hm(n, 0.0f);
    std::uint64_t events = 0;
    for (std::size_t t = 0; t < T; ++t) {
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t k = t * n + i;
            s[k] = nilif_step(hm[i], x[k], p, u[k]);
            events += static_cast<std::uint64_t>(s[k] * levels + 0.5f);
        }
    }
    if (ops) ops->add(op_class::nu, T * n);
    return events;
}

void nilif_backward(float* dx, const float* ds, const float* u, std::size_t T, std::size_t n, const nilif_params& p) {
    p.validate();
    const auto levels = static_cast<float>(p.levels);
    std::vector<float> grad_hm(n, 0.0f);  // dL/dHm[t], flowing back from step t+1
    for (std::size_t t = T; t-- > 0;) {
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t k = t * n + i;
            const bool in_range = u[k] >= 0.0f && u[k] <= levels;
            const float ste = in_range ? 1.0f / levels : 0.0f;
            const float grad_u = ds[k] * ste + grad_hm[i] * p.beta * (1.0f - levels * ste);
            dx[k] = grad_u;
            grad_hm[i] = grad_u;
        }
    }
}

}  // namespace wtasim
