// BPTT backward against central finite differences of the surrogate-relaxed forward: the Heaviside
// spike is replaced by the surrogate's primitive (sigmoid / atan), which makes the forward smooth, and
// the backward, fed the relaxed S and H, must then be its exact derivative. With detach_reset the reset
// term's S is frozen at its unperturbed value, which is what "no gradient through the reset" means.
// NI-LIF relaxes round-and-clip to clip(U, 0, D) / D, whose derivative is the straight-through rule.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/finite_difference.hpp"
#include "common/relaxed_lif.hpp"
#include "core/rng.hpp"
#include "neurons/backend.hpp"

using namespace wtasim;

namespace {
double weighted(const std::vector<double>& s, const std::vector<double>& w) {
    double l = 0.0;
    for (std::size_t k = 0; k < s.size(); ++k) l += s[k] * w[k];
    return l;
}

std::vector<float> to_float(const std::vector<double>& v) {
    return {v.begin(), v.end()};
}

void check_gradient(const std::vector<float>& analytic, const std::vector<double>& numeric) {
    double scale = 0.0;
    for (double g : numeric) scale = std::max(scale, std::abs(g));
    REQUIRE(scale > 1e-3);  // the check must have gradient to compare
    for (std::size_t k = 0; k < numeric.size(); ++k) {
        CAPTURE(k);
        CHECK(std::abs(analytic[k] - numeric[k]) <= 2e-4 * std::abs(numeric[k]) + 2e-5 * scale);
    }
}
}  // namespace

TEST_CASE("gradcheck: LIF backward equals finite differences of the relaxed forward") {
    const std::size_t T = 5, n = 6;
    counter_rng rng(42);
    std::size_t combo = 0;
    for (bool decay_input : {true, false})
        for (reset_mode reset : {reset_mode::hard, reset_mode::soft})
            for (bool detach : {true, false})
                for (surrogate sg : {surrogate::sigmoid(4.0f), surrogate::atan(2.0f), surrogate::sigmoid(1.5f)}) {
                    lif_params p;
                    p.decay_input = decay_input;
                    p.reset = reset;
                    p.detach_reset = detach;
                    p.sg = sg;
                    p.tau = 2.5f;
                    p.v_reset = reset == reset_mode::hard ? -0.25f : 0.0f;
                    CAPTURE(combo++);
                    std::vector<double> x(T * n), w(T * n);
                    for (std::size_t k = 0; k < x.size(); ++k) {
                        x[k] = (decay_input ? 1.6 : 0.7) + 0.8 * rng.normal(combo, k);
                        w[k] = rng.normal(1000 + combo, k);
                    }
                    const auto base = test::relaxed_lif(x, T, p, nullptr);
                    const std::vector<double>* frozen = detach ? &base.s : nullptr;
                    const auto numeric = test::central_difference(x, 1e-5, [&](const std::vector<double>& xs) {
                        return weighted(test::relaxed_lif(xs, T, p, frozen).s, w);
                    });
                    const auto s = to_float(base.s), h = to_float(base.h), ds = to_float(w);
                    for (const char* name : {"reference", "cpu"}) {
                        std::vector<float> dx(x.size());
                        neuron_backend_named(name).lif_backward(dx.data(), ds.data(), s.data(), h.data(), T, n, p, {},
                                                                nullptr, nullptr);
                        check_gradient(dx, numeric);
                    }
                }
}

TEST_CASE("gradcheck: NI-LIF straight-through backward equals finite differences of clip(U, 0, D) / D") {
    const std::size_t T = 6, n = 8;
    for (nilif_params p : {nilif_params{4, 0.5f}, nilif_params{3, 0.25f}, nilif_params{8, 0.9f}}) {
        CAPTURE(p.levels);
        const double D = p.levels, beta = p.beta;
        auto relaxed = [&](const std::vector<double>& x, std::vector<double>* u_out) {
            std::vector<double> s(T * n), hm(n, 0.0);
            for (std::size_t t = 0; t < T; ++t)
                for (std::size_t i = 0; i < n; ++i) {
                    const std::size_t k = t * n + i;
                    const double u = hm[i] + x[k];
                    if (u_out) (*u_out)[k] = u;
                    s[k] = std::clamp(u, 0.0, D) / D;
                    hm[i] = beta * (u - D * s[k]);
                }
            return s;
        };
        // Inputs spread over [-1, D + 1] so that both the clipped and the linear regime are exercised;
        // inputs whose U lands within 1e-3 of a kink are nudged (finite differences are not defined there).
        counter_rng rng(static_cast<std::uint64_t>(p.levels));
        std::vector<double> x(T * n), w(T * n), u(T * n);
        for (std::size_t k = 0; k < x.size(); ++k) {
            x[k] = -1.0 + (D + 2.0) * rng.uniform(0, k);
            w[k] = rng.normal(1, k);
        }
        for (int pass = 0; pass < 10; ++pass) {
            relaxed(x, &u);
            bool moved = false;
            for (std::size_t k = 0; k < x.size(); ++k)
                if (std::abs(u[k]) < 1e-3 || std::abs(u[k] - D) < 1e-3) x[k] += 0.01, moved = true;
            if (!moved) break;
        }
        std::size_t clipped = 0;
        for (double v : u) clipped += (v < 0 || v > D) ? 1 : 0;
        CHECK(clipped > 0);
        CHECK(clipped < u.size());
        const auto numeric = test::central_difference(
            x, 1e-6, [&](const std::vector<double>& xs) { return weighted(relaxed(xs, nullptr), w); });
        const auto uf = to_float(u), ds = to_float(w);
        for (const char* name : {"reference", "cpu"}) {
            std::vector<float> dx(x.size());
            neuron_backend_named(name).nilif_backward(dx.data(), ds.data(), uf.data(), T, n, p);
            check_gradient(dx, numeric);
        }
    }
}
