// Plain serial reference of the LIF forward and BPTT backward (equations in neurons/lif.hpp): time
// outer, neurons inner, one membrane vector carried through time; the update itself is the shared step
// of neurons/step.hpp. With per-channel constants each neuron takes its channel's coefficients; the
// parameter gradients are summed per neuron over t in reverse time order.
#include "neurons/lif.hpp"

#include <algorithm>
#include <vector>

#include "neurons/step.hpp"

namespace wtasim {

std::uint64_t lif_forward(float* s, float* h, const float* x, std::size_t T, std::size_t n, const lif_params& p,
                          op_counts* ops, const lif_channels& ch) {
    p.validate();
    ch.validate(n);
    const lif_coeffs c = lif_coeffs_of(p);
    std::vector<float> v(n, c.v_reset);
    std::uint64_t spikes = 0;
    for (std::size_t t = 0; t < T; ++t) {
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t k = t * n + i;
            s[k] = lif_forward_step(v[i], x[k], ch.any() ? lif_channel_coeffs(c, ch, i) : c, h[k]);
            spikes += s[k] != 0.0f ? 1 : 0;
        }
    }
    if (ops) ops->add(op_class::nu, T * n);
    return spikes;
}

void lif_backward(float* dx, const float* ds, const float* s, const float* h, std::size_t T, std::size_t n,
                  const lif_params& p, const lif_channels& ch, float* dtau, float* dv_th) {
    p.validate();
    ch.validate(n);
    const lif_coeffs c = lif_coeffs_of(p);
    std::vector<float> grad_v(n, 0.0f);  // dL/dV[t], flowing back from step t+1
    if (!dtau && !dv_th) {
        for (std::size_t t = T; t-- > 0;) {
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t k = t * n + i;
                dx[k] = lif_backward_step(grad_v[i], ds[k], s[k], h[k], ch.any() ? lif_channel_coeffs(c, ch, i) : c);
            }
        }
        return;
    }
    std::vector<float> sum_tau(n, 0.0f), sum_v_th(n, 0.0f);
    for (std::size_t t = T; t-- > 0;) {
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t k = t * n + i;
            const lif_coeffs ci = lif_channel_coeffs(c, ch, i);
            const float v_prev = t > 0 ? lif_reset_membrane(s[k - n], h[k - n], ci) : ci.v_reset;
            dx[k] = lif_backward_step(grad_v[i], sum_tau[i], sum_v_th[i], ds[k], s[k], h[k], v_prev, ci);
        }
    }
    if (dtau) std::copy(sum_tau.begin(), sum_tau.end(), dtau);
    if (dv_th) std::copy(sum_v_th.begin(), sum_v_th.end(), dv_th);
}

}  // namespace wtasim
