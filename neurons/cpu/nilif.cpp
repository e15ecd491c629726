// TBB + SIMD NI-LIF, blocked like neurons/cpu/lif.cpp and calling the same shared step
// (neurons/step.hpp); bit-identical to the reference neurons/nilif.cpp for any thread count.
#include <algorithm>
#include <array>

#include "core/parallel.hpp"
#include "neurons/nilif.hpp"
#include "neurons/step.hpp"

namespace wtasim::cpu {
namespace {
constexpr std::size_t block = 512;
constexpr std::size_t grain = 4096;
}  // namespace

std::uint64_t nilif_forward(float* s, float* u, const float* x, std::size_t T, std::size_t n, const nilif_params& p,
                            op_counts* ops) {
    p.validate();
    const nilif_coeffs c = nilif_coeffs_of(p);
    const std::uint64_t events = deterministic_reduce<std::uint64_t>(
        n, grain, 0,
        [&](std::size_t b, std::size_t e) {
            std::uint64_t count = 0;
            std::array<float, block> hm;
            for (std::size_t bb = b; bb < e; bb += block) {
                const std::size_t m = std::min(e, bb + block) - bb;
                for (std::size_t i = 0; i < m; ++i) hm[i] = 0.0f;
                for (std::size_t t = 0; t < T; ++t) {
                    const std::size_t o = t * n + bb;
                    float level_sum = 0.0f;  // exact: integers far below 2^24 per block and step
                    for (std::size_t i = 0; i < m; ++i) {
                        float h = hm[i], membrane, level;
                        const float spike = nilif_forward_step(h, x[o + i], c, membrane, level);
                        hm[i] = h;
                        u[o + i] = membrane;
                        s[o + i] = spike;
                        level_sum += level;
                    }
                    count += static_cast<std::uint64_t>(level_sum);
                }
            }
            return count;
        },
        [](std::uint64_t a, std::uint64_t c2) { return a + c2; });
    if (ops) ops->add(op_class::nu, T * n);
    return events;
}

void nilif_backward(float* dx, const float* ds, const float* u, std::size_t T, std::size_t n, const nilif_params& p) {
    p.validate();
    const nilif_coeffs c = nilif_coeffs_of(p);
    parallel_for(n, grain, [&](std::size_t b, std::size_t e) {
        std::array<float, block> grad_hm;
        for (std::size_t bb = b; bb < e; bb += block) {
            const std::size_t m = std::min(e, bb + block) - bb;
            for (std::size_t i = 0; i < m; ++i) grad_hm[i] = 0.0f;
            for (std::size_t t = T; t-- > 0;) {
                const std::size_t o = t * n + bb;
                for (std::size_t i = 0; i < m; ++i) {
                    float g = grad_hm[i];
                    dx[o + i] = nilif_backward_step(g, ds[o + i], u[o + i], c);
                    grad_hm[i] = g;
                }
            }
        }
    });
}

}  // namespace wtasim::cpu
