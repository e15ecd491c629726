// TBB + SIMD NI-LIF, blocked like neurons/cpu/lif.cpp; bit-identical to the reference neurons/nilif.cpp.
#include <algorithm>
#include <array>
#include <cmath>

#include "core/parallel.hpp"
#include "neurons/nilif.hpp"

namespace wtasim::cpu {
namespace {
constexpr std::size_t block = 512;
constexpr std::size_t grain = 4096;
}  // namespace

std::uint64_t nilif_forward(float* s, float* u, const float* x, std::size_t T, std::size_t n, const nilif_params& p,
                            op_counts* ops) {
    p.validate();
    const auto levels = static_cast<float>(p.levels);
    const float beta = p.beta;
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
                        const float membrane = hm[i] + x[o + i];
                        float level = std::nearbyint(membrane);
                        level = level > 0.0f ? level : 0.0f;  // as the reference: -0 becomes +0
                        level = level < levels ? level : levels;
                        u[o + i] = membrane;
                        s[o + i] = level / levels;
                        level_sum += level;
                        hm[i] = beta * (membrane - levels * s[o + i]);
                    }
                    count += static_cast<std::uint64_t>(level_sum);
                }
            }
            return count;
        },
        [](std::uint64_t a, std::uint64_t c) { return a + c; });
    if (ops) ops->add(op_class::nu, T * n);
    return events;
}

void nilif_backward(float* dx, const float* ds, const float* u, std::size_t T, std::size_t n, const nilif_params& p) {
    p.validate();
    const auto levels = static_cast<float>(p.levels);
    const float beta = p.beta;
    parallel_for(n, grain, [&](std::size_t b, std::size_t e) {
        std::array<float, block> grad_hm;
        for (std::size_t bb = b; bb < e; bb += block) {
            const std::size_t m = std::min(e, bb + block) - bb;
            for (std::size_t i = 0; i < m; ++i) grad_hm[i] = 0.0f;
            for (std::size_t t = T; t-- > 0;) {
                const std::size_t o = t * n + bb;
                for (std::size_t i = 0; i < m; ++i) {
                    const float uk = u[o + i];
                    const float ste = (uk >= 0.0f && uk <= levels) ? 1.0f / levels : 0.0f;
                    const float grad_u = ds[o + i] * ste + grad_hm[i] * beta * (1.0f - levels * ste);
                    dx[o + i] = grad_u;
                    grad_hm[i] = grad_u;
                }
            }
        }
    });
}

}  // namespace wtasim::cpu
