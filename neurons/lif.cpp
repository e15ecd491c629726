// Plain serial reference of the LIF forward and BPTT backward (equations in neurons/lif.hpp).
// Written for reading, not speed: time outer, neurons inner, one membrane vector carried through time.
#include "neurons/lif.hpp"

#include <vector>

#include "neurons/step.hpp"

namespace wtasim {

std::uint64_t lif_forward(float* s, float* h, const float* x, std::size_t T, std::size_t n, const lif_params& p,
                          op_counts* ops) {
    p.validate();
    const float v_reset = p.reset == reset_mode::hard ? p.v_reset : 0.0f;
    std::vector<float> v(n, v_reset);
    std::uint64_t spikes = 0;
    for (std::size_t t = 0; t < T; ++t) {
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t k = t * n + i;
            s[k] = lif_step(v[i], x[k], p, v_reset, h[k]);
            spikes += s[k] != 0.0f ? 1 : 0;
        }
    }
    if (ops) ops->add(op_class::nu, T * n);
    return spikes;
}

void lif_backward(float* dx, const float* ds, const float* s, const float* h, std::size_t T, std::size_t n,
                  const lif_params& p) {
    p.validate();
    const float v_reset = p.reset == reset_mode::hard ? p.v_reset : 0.0f;
    const float leak = 1.0f - 1.0f / p.tau;  // dH[t]/dV[t-1], both decay forms
    std::vector<float> grad_v(n, 0.0f);      // dL/dV[t], flowing back from step t+1
    for (std::size_t t = T; t-- > 0;) {
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t k = t * n + i;
            const float g = surrogate_grad(p.sg, h[k] - p.v_th);
            float dv_dh;
            if (p.reset == reset_mode::hard)
                dv_dh = (1.0f - s[k]) + (p.detach_reset ? 0.0f : (v_reset - h[k]) * g);
            else
                dv_dh = 1.0f - (p.detach_reset ? 0.0f : p.v_th * g);
            const float grad_h = ds[k] * g + grad_v[i] * dv_dh;
            dx[k] = p.decay_input ? grad_h / p.tau : grad_h;
            grad_v[i] = grad_h * leak;
        }
    }
}

}  // namespace wtasim
