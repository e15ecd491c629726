// TBB + SIMD LIF: neurons are cut into blocks that stay in L1 (the membrane of a block lives in a
// stack array across all T steps); each block's inner loop calls the shared step of neurons/step.hpp
// with the run-time flags turned into compile-time constants, so the inlined step is branch-free and
// the compiler vectorises the loop. Every element goes through exactly the reference's float
// operations in the same order, so results are bit-identical to neurons/lif.cpp for any thread count.
// A layer with per-channel constants (or a backward that returns parameter gradients) runs the generic
// loops below: the same step per element with its channel's coefficients and run-time flags, still
// parallel over neurons; each neuron's parameter-gradient sum over t is private to it.
#include <algorithm>
#include <array>

#include "core/parallel.hpp"
#include "neurons/lif.hpp"
#include "neurons/step.hpp"

namespace wtasim::cpu {
namespace {
constexpr std::size_t block = 512;   // neurons whose state is carried through T in registers/L1
constexpr std::size_t grain = 4096;  // neurons per parallel task

template <bool decay_input, bool hard>
std::uint64_t forward_block(float* s, float* h, const float* x, std::size_t T, std::size_t n, std::size_t b,
                            std::size_t e, const lif_params& p) {
    lif_coeffs c = lif_coeffs_of(p);
    c.decay_input = decay_input;
    c.hard = hard;
    std::array<float, block> v;
    const std::size_t m = e - b;
    for (std::size_t i = 0; i < m; ++i) v[i] = c.v_reset;
    std::uint64_t spikes = 0;
    for (std::size_t t = 0; t < T; ++t) {
        const float* xt = x + t * n + b;
        float* st = s + t * n + b;
        float* ht = h + t * n + b;
        std::uint32_t fired = 0;
        for (std::size_t i = 0; i < m; ++i) {
            float vi = v[i], charged;
            const float spike = lif_forward_step(vi, xt[i], c, charged);
            v[i] = vi;
            ht[i] = charged;
            st[i] = spike;
            fired += spike != 0.0f ? 1u : 0u;
        }
        spikes += fired;
    }
    return spikes;
}

template <bool decay_input, bool hard>
std::uint64_t forward(float* s, float* h, const float* x, std::size_t T, std::size_t n, const lif_params& p) {
    return deterministic_reduce<std::uint64_t>(
        n, grain, 0,
        [&](std::size_t b, std::size_t e) {
            std::uint64_t spikes = 0;
            for (std::size_t bb = b; bb < e; bb += block)
                spikes += forward_block<decay_input, hard>(s, h, x, T, n, bb, std::min(e, bb + block), p);
            return spikes;
        },
        [](std::uint64_t a, std::uint64_t c) { return a + c; });
}

template <bool hard, bool detach, bool decay_input, surrogate_kind kind>
void backward(float* dx, const float* ds, const float* s, const float* h, std::size_t T, std::size_t n,
              const lif_params& p) {
    parallel_for(n, grain, [&](std::size_t b, std::size_t e) {
        // A local copy per task: the compiler sees the flags as constants only in a local it owns.
        lif_coeffs c = lif_coeffs_of(p);
        c.hard = hard;
        c.detach_reset = detach;
        c.decay_input = decay_input;
        c.kind = kind;
        std::array<float, block> grad_v;
        for (std::size_t bb = b; bb < e; bb += block) {
            const std::size_t m = std::min(e, bb + block) - bb;
            for (std::size_t i = 0; i < m; ++i) grad_v[i] = 0.0f;
            for (std::size_t t = T; t-- > 0;) {
                const std::size_t o = t * n + bb;
                const float* hs = h + o;
                const float* ss = s + o;
                const float* dss = ds + o;
                float* dxs = dx + o;
                for (std::size_t i = 0; i < m; ++i) {
                    float gv = grad_v[i];
                    const float d = lif_backward_step(gv, dss[i], ss[i], hs[i], c);
                    grad_v[i] = gv;
                    dxs[i] = d;
                }
            }
        }
    });
}

// Picks the instantiation for the run-time parameters, one flag at a time.
template <bool... flags>
void backward_dispatch(float* dx, const float* ds, const float* s, const float* h, std::size_t T, std::size_t n,
                       const lif_params& p) {
    constexpr std::size_t given = sizeof...(flags);
    if constexpr (given == 3) {
        if (p.sg.kind == surrogate_kind::sigmoid)
            backward<flags..., surrogate_kind::sigmoid>(dx, ds, s, h, T, n, p);
        else
            backward<flags..., surrogate_kind::atan>(dx, ds, s, h, T, n, p);
    } else {
        const bool next = given == 0 ? p.reset == reset_mode::hard : given == 1 ? p.detach_reset : p.decay_input;
        if (next)
            backward_dispatch<flags..., true>(dx, ds, s, h, T, n, p);
        else
            backward_dispatch<flags..., false>(dx, ds, s, h, T, n, p);
    }
}
std::uint64_t forward_channels(float* s, float* h, const float* x, std::size_t T, std::size_t n, const lif_params& p,
                               const lif_channels& ch) {
    return deterministic_reduce<std::uint64_t>(
        n, grain, 0,
        [&](std::size_t b, std::size_t e) {
            const lif_coeffs c = lif_coeffs_of(p);
            std::uint64_t spikes = 0;
            for (std::size_t i = b; i < e; ++i) {
                const lif_coeffs ci = lif_channel_coeffs(c, ch, i);
                float v = ci.v_reset;
                for (std::size_t t = 0; t < T; ++t) {
                    const std::size_t k = t * n + i;
                    s[k] = lif_forward_step(v, x[k], ci, h[k]);
                    spikes += s[k] != 0.0f ? 1 : 0;
                }
            }
            return spikes;
        },
        [](std::uint64_t a, std::uint64_t c) { return a + c; });
}

void backward_channels(float* dx, float* dtau, float* dv_th, const float* ds, const float* s, const float* h,
                       std::size_t T, std::size_t n, const lif_params& p, const lif_channels& ch) {
    parallel_for(n, grain, [&](std::size_t b, std::size_t e) {
        const lif_coeffs c = lif_coeffs_of(p);
        for (std::size_t i = b; i < e; ++i) {
            const lif_coeffs ci = lif_channel_coeffs(c, ch, i);
            float grad_v = 0.0f, sum_tau = 0.0f, sum_v_th = 0.0f;
            for (std::size_t t = T; t-- > 0;) {
                const std::size_t k = t * n + i;
                if (dtau || dv_th) {
                    const float v_prev = t > 0 ? lif_reset_membrane(s[k - n], h[k - n], ci) : ci.v_reset;
                    dx[k] = lif_backward_step(grad_v, sum_tau, sum_v_th, ds[k], s[k], h[k], v_prev, ci);
                } else {
                    dx[k] = lif_backward_step(grad_v, ds[k], s[k], h[k], ci);
                }
            }
            if (dtau) dtau[i] = sum_tau;
            if (dv_th) dv_th[i] = sum_v_th;
        }
    });
}
}  // namespace

std::uint64_t lif_forward(float* s, float* h, const float* x, std::size_t T, std::size_t n, const lif_params& p,
                          op_counts* ops, const lif_channels& ch) {
    p.validate();
    ch.validate(n);
    const bool hard = p.reset == reset_mode::hard;
    std::uint64_t spikes;
    if (ch.any())
        spikes = forward_channels(s, h, x, T, n, p, ch);
    else if (p.decay_input)
        spikes = hard ? forward<true, true>(s, h, x, T, n, p) : forward<true, false>(s, h, x, T, n, p);
    else
        spikes = hard ? forward<false, true>(s, h, x, T, n, p) : forward<false, false>(s, h, x, T, n, p);
    if (ops) ops->add(op_class::nu, T * n);
    return spikes;
}

void lif_backward(float* dx, const float* ds, const float* s, const float* h, std::size_t T, std::size_t n,
                  const lif_params& p, const lif_channels& ch, float* dtau, float* dv_th) {
    p.validate();
    ch.validate(n);
    if (ch.any() || dtau || dv_th)
        backward_channels(dx, dtau, dv_th, ds, s, h, T, n, p, ch);
    else
        backward_dispatch<>(dx, ds, s, h, T, n, p);
}

}  // namespace wtasim::cpu
