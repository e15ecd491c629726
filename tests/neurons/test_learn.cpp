// Learnable LIF constants (neurons/lif.hpp lif_channels, docs/model.md §2.1): the backward's per-neuron sums of
// dL/dtau and dL/dv_th against central finite differences of the surrogate-relaxed forward (as in
// test_gradcheck.cpp), per channel and for one value shared by the whole layer, for both resets, both decay
// forms and with and without detach_reset; the PLIF chain dL/dw = dL/dtau (-exp(-w)) likewise; and the
// per-channel forward against the scalar one.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/finite_difference.hpp"
#include "common/relaxed_lif.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "neurons/backend.hpp"

using namespace wtasim;

namespace {
double weighted(const std::vector<double>& s, const std::vector<double>& w) {
    double l = 0.0;
    for (std::size_t k = 0; k < s.size(); ++k) l += s[k] * w[k];
    return l;
}

std::vector<double> per_channel(const std::vector<float>& per_neuron, std::size_t C) {
    std::vector<double> out(C, 0.0);
    for (std::size_t i = 0; i < per_neuron.size(); ++i) out[i % C] += per_neuron[i];
    return out;
}

void check_close(const std::vector<double>& analytic, const std::vector<double>& numeric) {
    double scale = 0.0;
    for (double g : numeric) scale = std::max(scale, std::abs(g));
    REQUIRE(scale > 1e-3);  // the check must have gradient to compare
    for (std::size_t k = 0; k < numeric.size(); ++k) {
        CAPTURE(k);
        CAPTURE(analytic[k]);
        CAPTURE(numeric[k]);
        CHECK(std::abs(analytic[k] - numeric[k]) <= 5e-4 * std::abs(numeric[k]) + 5e-5 * scale);
    }
}

struct lif_case {
    lif_params p;
    std::size_t combo;
};
std::vector<lif_case> every_form() {
    std::vector<lif_case> out;
    std::size_t combo = 0;
    for (bool decay_input : {true, false})
        for (reset_mode reset : {reset_mode::hard, reset_mode::soft})
            for (bool detach : {true, false})
                for (surrogate sg : {surrogate::sigmoid(4.0f), surrogate::atan(2.0f)}) {
                    lif_params p;
                    p.decay_input = decay_input;
                    p.reset = reset;
                    p.detach_reset = detach;
                    p.sg = sg;
                    p.v_reset = reset == reset_mode::hard ? -0.25f : 0.0f;
                    out.push_back({p, combo++});
                }
    return out;
}
}  // namespace

TEST_CASE("learn: dL/dtau and dL/dv_th per channel and per layer equal finite differences of the relaxed forward") {
    const std::size_t T = 5, C = 3, n = 12;  // 4 rows of 3 channels
    counter_rng rng(7);
    for (const lif_case& lc : every_form()) {
        const lif_params& p = lc.p;
        CAPTURE(lc.combo);
        const std::vector<double> tau{1.7, 2.4, 3.1}, v_th{0.8, 1.0, 1.3};
        std::vector<double> x(T * n), w(T * n);
        for (std::size_t k = 0; k < x.size(); ++k) {
            x[k] = (p.decay_input ? 1.6 : 0.7) + 0.8 * rng.normal(lc.combo, k);
            w[k] = rng.normal(1000 + lc.combo, k);
        }
        const auto base = test::relaxed_lif(x, T, C, tau, v_th, p, nullptr);
        const std::vector<double>* frozen = p.detach_reset ? &base.s : nullptr;
        const auto d_tau = test::central_difference(tau, 1e-5, [&](const std::vector<double>& t) {
            return weighted(test::relaxed_lif(x, T, C, t, v_th, p, frozen).s, w);
        });
        const auto d_v_th = test::central_difference(v_th, 1e-5, [&](const std::vector<double>& v) {
            return weighted(test::relaxed_lif(x, T, C, tau, v, p, frozen).s, w);
        });
        // one value for the whole layer: the derivative along (1, 1, 1)
        auto shared = [&](bool of_tau) {
            const double eps = 1e-5;
            auto at = [&](double e) {
                std::vector<double> t = tau, v = v_th;
                for (auto& a : of_tau ? t : v) a += e;
                return weighted(test::relaxed_lif(x, T, C, t, v, p, frozen).s, w);
            };
            return (at(eps) - at(-eps)) / (2 * eps);
        };
        const std::vector<float> s(base.s.begin(), base.s.end()), h(base.h.begin(), base.h.end()),
            ds(w.begin(), w.end());
        const std::vector<float> tau_f(tau.begin(), tau.end()), v_th_f(v_th.begin(), v_th.end());
        const lif_channels ch{tau_f.data(), v_th_f.data(), C};
        for (const char* name : {"reference", "cpu"}) {
            CAPTURE(name);
            std::vector<float> dx(x.size()), dtau(n), dv_th(n);
            neuron_backend_named(name).lif_backward(dx.data(), ds.data(), s.data(), h.data(), T, n, p, ch, dtau.data(),
                                                    dv_th.data());
            const auto a_tau = per_channel(dtau, C), a_v_th = per_channel(dv_th, C);
            check_close(a_tau, d_tau);
            check_close(a_v_th, d_v_th);
            check_close({a_tau[0] + a_tau[1] + a_tau[2]}, {shared(true)});
            check_close({a_v_th[0] + a_v_th[1] + a_v_th[2]}, {shared(false)});
        }
    }
}

TEST_CASE("learn: the PLIF chain dL/dw = dL/dtau (-exp(-w)) equals finite differences in w") {
    const std::size_t T = 4, C = 2, n = 6;
    counter_rng rng(8);
    for (const lif_case& lc : every_form()) {
        const lif_params& p = lc.p;
        CAPTURE(lc.combo);
        const std::vector<double> w_plif{-0.4, 0.6}, v_th{1.0, 0.9};
        auto tau_of = [](const std::vector<double>& w) {
            std::vector<double> t;
            for (double a : w) t.push_back(1.0 + std::exp(-a));
            return t;
        };
        std::vector<double> x(T * n), wt(T * n);
        for (std::size_t k = 0; k < x.size(); ++k) {
            x[k] = (p.decay_input ? 1.6 : 0.7) + 0.8 * rng.normal(lc.combo, k);
            wt[k] = rng.normal(500 + lc.combo, k);
        }
        const auto base = test::relaxed_lif(x, T, C, tau_of(w_plif), v_th, p, nullptr);
        const std::vector<double>* frozen = p.detach_reset ? &base.s : nullptr;
        const auto numeric = test::central_difference(w_plif, 1e-5, [&](const std::vector<double>& w) {
            return weighted(test::relaxed_lif(x, T, C, tau_of(w), v_th, p, frozen).s, wt);
        });
        const std::vector<float> s(base.s.begin(), base.s.end()), h(base.h.begin(), base.h.end()),
            ds(wt.begin(), wt.end());
        std::vector<float> tau_f;
        for (double a : w_plif) tau_f.push_back(plif_tau(static_cast<float>(a)));
        const std::vector<float> v_th_f(v_th.begin(), v_th.end());
        std::vector<float> dx(x.size()), dtau(n);
        lif_backward(dx.data(), ds.data(), s.data(), h.data(), T, n, p, {tau_f.data(), v_th_f.data(), C}, dtau.data(),
                     nullptr);
        std::vector<double> analytic = per_channel(dtau, C);
        for (std::size_t c = 0; c < C; ++c) analytic[c] *= -std::exp(-w_plif[c]);
        check_close(analytic, numeric);
    }
}

TEST_CASE(
    "learn: plif_tau starts at the configured tau, and per-channel constants equal to the scalars give its bits") {
    CHECK(plif_w_of_tau(2.0f) == 0.0f);
    CHECK(plif_tau(0.0f) == 2.0f);
    CHECK(std::abs(plif_tau(plif_w_of_tau(1.5f)) - 1.5f) <= 1e-6f);
    CHECK(plif_tau(-1.0f) > plif_tau(1.0f));  // w grows, tau falls towards 1
    const std::size_t T = 4, C = 4, n = 16;
    std::vector<float> x(T * n);
    counter_rng(3).fill_normal(x.data(), x.size(), 0, 0, 1.2f, 0.8f);
    for (const lif_case& lc : every_form()) {
        lif_params p = lc.p;
        p.tau = 2.0f;
        const std::vector<float> tau(C, 2.0f), v_th(C, p.v_th);
        for (const char* name : {"reference", "cpu"}) {
            const neuron_backend& b = neuron_backend_named(name);
            std::vector<float> s0(x.size()), h0(x.size()), s1(x.size()), h1(x.size()), dx0(x.size()), dx1(x.size());
            std::vector<float> dtau(n), dv(n);
            const auto k0 = b.lif_forward(s0.data(), h0.data(), x.data(), T, n, p, nullptr, {});
            const auto k1 =
                b.lif_forward(s1.data(), h1.data(), x.data(), T, n, p, nullptr, {tau.data(), v_th.data(), C});
            CHECK(k0 == k1);
            CHECK(std::equal(s0.begin(), s0.end(), s1.begin()));
            CHECK(std::equal(h0.begin(), h0.end(), h1.begin()));
            b.lif_backward(dx0.data(), x.data(), s0.data(), h0.data(), T, n, p, {}, nullptr, nullptr);
            b.lif_backward(dx1.data(), x.data(), s0.data(), h0.data(), T, n, p, {tau.data(), v_th.data(), C},
                           dtau.data(), dv.data());
            CHECK(std::equal(dx0.begin(), dx0.end(), dx1.begin()));
        }
        // a channel with another threshold fires differently: the per-channel value is used
        std::vector<float> v_hi(C, p.v_th);
        v_hi[1] = p.v_th + 5.0f;
        std::vector<float> s(x.size()), h(x.size());
        lif_forward(s.data(), h.data(), x.data(), T, n, p, nullptr, {nullptr, v_hi.data(), C});
        for (std::size_t k = 1; k < x.size(); k += C) CHECK(s[k] == 0.0f);
    }
    std::vector<float> s(8), h(8), xs(8, 1.0f), one(3, 2.0f);
    CHECK_THROWS_AS(lif_forward(s.data(), h.data(), xs.data(), 2, 4, lif_params{}, nullptr, {one.data(), nullptr, 3}),
                    internal_error);
}
