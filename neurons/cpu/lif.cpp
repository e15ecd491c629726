// TBB + SIMD LIF: neurons are cut into blocks that stay in L1 (the membrane of a block lives in a
// stack array across all T steps); each block's inner loop is branch-free over neurons so the compiler
// vectorises it. Every element goes through exactly the reference's float operations in the same
// order, so results are bit-identical to neurons/lif.cpp for any thread count.
#include <array>

#include "core/parallel.hpp"
#include "neurons/lif.hpp"

namespace wtasim::cpu {
namespace {
constexpr std::size_t block = 512;   // neurons whose state is carried through T in registers/L1
constexpr std::size_t grain = 4096;  // neurons per parallel task

template <bool decay_input, bool hard>
std::uint64_t forward_block(float* s, float* h, const float* x, std::size_t T, std::size_t n, std::size_t b,
                            std::size_t e, const lif_params& p, float v_reset) {
    std::array<float, block> v;
    const std::size_t m = e - b;
    for (std::size_t i = 0; i < m; ++i) v[i] = v_reset;
    std::uint64_t spikes = 0;
    const float tau = p.tau, v_th = p.v_th;
    for (std::size_t t = 0; t < T; ++t) {
        const float* xt = x + t * n + b;
        float* st = s + t * n + b;
        float* ht = h + t * n + b;
        std::uint32_t fired = 0;
        for (std::size_t i = 0; i < m; ++i) {
            const float vi = v[i];
            const float charged = decay_input ? vi + (xt[i] - (vi - v_reset)) / tau : vi - (vi - v_reset) / tau + xt[i];
            const float spike = charged >= v_th ? 1.0f : 0.0f;
            ht[i] = charged;
            st[i] = spike;
            fired += charged >= v_th ? 1u : 0u;
            v[i] = hard ? (charged >= v_th ? v_reset : charged) : charged - spike * v_th;
        }
        spikes += fired;
    }
    return spikes;
}

template <bool decay_input, bool hard>
std::uint64_t forward(float* s, float* h, const float* x, std::size_t T, std::size_t n, const lif_params& p) {
    const float v_reset = hard ? p.v_reset : 0.0f;
    return deterministic_reduce<std::uint64_t>(
        n, grain, 0,
        [&](std::size_t b, std::size_t e) {
            std::uint64_t spikes = 0;
            for (std::size_t bb = b; bb < e; bb += block)
                spikes += forward_block<decay_input, hard>(s, h, x, T, n, bb, std::min(e, bb + block), p, v_reset);
            return spikes;
        },
        [](std::uint64_t a, std::uint64_t c) { return a + c; });
}

template <bool hard, bool detach, bool decay_input, surrogate_kind kind>
void backward(float* dx, const float* ds, const float* s, const float* h, std::size_t T, std::size_t n,
              const lif_params& p) {
    const float v_reset = hard ? p.v_reset : 0.0f;
    const float leak = 1.0f - 1.0f / p.tau;
    const float tau = p.tau, v_th = p.v_th, alpha = p.sg.alpha;
    parallel_for(n, grain, [&](std::size_t b, std::size_t e) {
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
                    const float hk = hs[i];
                    const float g = kind == surrogate_kind::sigmoid ? sigmoid_surrogate_grad(alpha, hk - v_th)
                                                                    : atan_surrogate_grad(alpha, hk - v_th);
                    float dv_dh;
                    if constexpr (hard)
                        dv_dh = (1.0f - ss[i]) + (detach ? 0.0f : (v_reset - hk) * g);
                    else
                        dv_dh = 1.0f - (detach ? 0.0f : v_th * g);
                    const float grad_h = dss[i] * g + grad_v[i] * dv_dh;
                    dxs[i] = decay_input ? grad_h / tau : grad_h;
                    grad_v[i] = grad_h * leak;
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
}  // namespace

std::uint64_t lif_forward(float* s, float* h, const float* x, std::size_t T, std::size_t n, const lif_params& p,
                          op_counts* ops) {
    p.validate();
    const bool hard = p.reset == reset_mode::hard;
    std::uint64_t spikes;
    if (p.decay_input)
        spikes = hard ? forward<true, true>(s, h, x, T, n, p) : forward<true, false>(s, h, x, T, n, p);
    else
        spikes = hard ? forward<false, true>(s, h, x, T, n, p) : forward<false, false>(s, h, x, T, n, p);
    if (ops) ops->add(op_class::nu, T * n);
    return spikes;
}

void lif_backward(float* dx, const float* ds, const float* s, const float* h, std::size_t T, std::size_t n,
                  const lif_params& p) {
    p.validate();
    backward_dispatch<>(dx, ds, s, h, T, n, p);
}

}  // namespace wtasim::cpu
