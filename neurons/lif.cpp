// Plain serial reference of the LIF forward and BPTT backward (equations in neurons/lif.hpp): time
// outer, neurons inner, one membrane vector carried through time; the update itself is the shared step
// of neurons/step.hpp.
#include "neurons/lif.hpp"

#include <vector>

#include "neurons/step.hpp"

namespace wtasim {

std::uint64_t lif_forward(float* s, float* h, const float* x, std::size_t T, std::size_t n, const lif_params& p,
                          op_counts* ops) {
    p.validate();
    const lif_coeffs c = lif_coeffs_of(p);
    std::vector<float> v(n, c.v_reset);
    std::uint64_t spikes = 0;
    for (std::size_t t = 0; t < T; ++t) {
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t k = t * n + i;
            s[k] = lif_forward_step(v[i], x[k], c, h[k]);
            spikes += s[k] != 0.0f ? 1 : 0;
        }
    }
    if (ops) ops->add(op_class::nu, T * n);
    return spikes;
}

void lif_backward(float* dx, const float* ds, const float* s, const float* h, std::size_t T, std::size_t n,
                  const lif_params& p) {
    p.validate();
    const lif_coeffs c = lif_coeffs_of(p);
    std::vector<float> grad_v(n, 0.0f);  // dL/dV[t], flowing back from step t+1
    for (std::size_t t = T; t-- > 0;) {
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t k = t * n + i;
            dx[k] = lif_backward_step(grad_v[i], ds[k], s[k], h[k], c);
        }
    }
}

}  // namespace wtasim
