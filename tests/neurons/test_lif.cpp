// LIF spike trains and gradients worked out by hand from docs/model.md §2.1 (the arithmetic is in the comments),
// run through the reference and the cpu backend.
#include <doctest/doctest.h>

#include <cmath>

#include "core/error.hpp"
#include "helpers.hpp"

using namespace wtasim;
using test::constant_drive;

TEST_CASE("lif: constant input, tau = 2, decay_input = true, hard reset") {
    // H = V + (1.5 - V)/2: 0.75 | 0.75 + 0.375 = 1.125 fires, V = 0 | 0.75 | 1.125 fires.
    for (const auto& s : constant_drive(1.5f, 4, lif_params{})) CHECK(s == std::vector<float>{0, 1, 0, 1});
    // Input 1.0 drives V towards 1 from below: 0.5, 0.75, 0.875, ... never reaches v_th.
    for (const auto& s : constant_drive(1.0f, 6, lif_params{})) CHECK(s == std::vector<float>(6, 0.0f));
}

TEST_CASE("lif: constant input, tau = 2, decay_input = false, hard reset") {
    lif_params p;
    p.decay_input = false;
    // H = V - V/2 + 0.6: 0.6 | 0.3 + 0.6 = 0.9 | 0.45 + 0.6 = 1.05 fires, V = 0 | 0.6.
    for (const auto& s : constant_drive(0.6f, 4, p)) CHECK(s == std::vector<float>{0, 0, 1, 0});
}

TEST_CASE("lif: input that lands exactly on the threshold fires") {
    lif_params p;
    // decay_input: H = 0 + 2.0/2 = 1.0 == v_th at t = 0, then V = 0 and the same again.
    for (const auto& s : constant_drive(2.0f, 3, p)) CHECK(s == std::vector<float>{1, 1, 1});
    // Just below: H = 1.9999/2 = 0.99995 < v_th, no spike.
    auto below = test::run_lif(neuron_backend_named("reference"), {1.9999f}, 1, p);
    CHECK(below.s[0] == 0.0f);
    CHECK(below.h[0] == doctest::Approx(0.99995f));
    p.decay_input = false;
    for (const auto& s : constant_drive(1.0f, 2, p)) CHECK(s == std::vector<float>{1, 1});
    // All exact in binary: H = 0.25 | 0.25 - 0.125 + 0.25 = 0.375 | 0.375 - 0.1875 + 0.25 = 0.4375 = v_th.
    p.v_th = 0.4375f;
    for (const auto& s : constant_drive(0.25f, 3, p)) CHECK(s == std::vector<float>{0, 0, 1});
}

TEST_CASE("lif: soft reset subtracts the threshold") {
    lif_params p;
    p.reset = reset_mode::soft;
    // 0.75 | 1.125 fires, V = 0.125 | 0.125 + 1.375/2 = 0.8125 | 0.8125 + 0.34375 = 1.15625 fires.
    for (const auto& s : constant_drive(1.5f, 4, p)) CHECK(s == std::vector<float>{0, 1, 0, 1});
    auto r = test::run_lif(neuron_backend_named("cpu"), std::vector<float>(4, 1.5f), 4, p);
    CHECK(r.h == std::vector<float>{0.75f, 1.125f, 0.8125f, 1.15625f});
}

TEST_CASE("lif: a non-zero v_reset is the resting and the reset potential") {
    lif_params p;
    p.v_reset = -0.5f;
    // H = V + (x - (V + 0.5))/2 with V[-1] = -0.5, x = 2: -0.5 + 1 = 0.5 | 0.5 + (2 - 1)/2 = 1.0 fires,
    // V = -0.5 | 0.5.
    auto r = test::run_lif(neuron_backend_named("reference"), std::vector<float>(4, 2.0f), 4, p);
    CHECK(r.s == std::vector<float>{0, 1, 0, 1});
    CHECK(r.h == std::vector<float>{0.5f, 1.0f, 0.5f, 1.0f});
}

TEST_CASE("lif: BPTT gradient of a two-step train, worked by hand") {
    // x = (1.5, 1.5), dL/dS = (0, 1), detach_reset. H = (0.75, 1.125), S = (0, 1).
    // gH1 = g(0.125); dx1 = gH1 / 2; gV0 = gH1 (1 - 1/2); gH0 = 0 * g + gV0 * (1 - S0) = gH1 / 2; dx0 = gH1 / 4.
    lif_params p;
    const float sig = 1.0f / (1.0f + std::exp(-4.0f * 0.125f));
    const float g1 = 4.0f * sig * (1.0f - sig);
    for (const char* name : {"reference", "cpu"}) {
        const auto& b = neuron_backend_named(name);
        auto r = test::run_lif(b, {1.5f, 1.5f}, 2, p);
        std::vector<float> ds{0.0f, 1.0f}, dx(2);
        b.lif_backward(dx.data(), ds.data(), r.s.data(), r.h.data(), 2, 1, p, {}, nullptr, nullptr);
        CHECK(dx[1] == doctest::Approx(g1 / 2).epsilon(1e-6));
        CHECK(dx[0] == doctest::Approx(g1 / 4).epsilon(1e-6));
        // A spike at step 0 (hard reset, detached) cuts the path to earlier steps: x0 = 2.0 fires.
        r = test::run_lif(b, {2.0f, 1.5f}, 2, p);
        b.lif_backward(dx.data(), ds.data(), r.s.data(), r.h.data(), 2, 1, p, {}, nullptr, nullptr);
        CHECK(dx[0] == 0.0f);
    }
}

TEST_CASE("lif: operation counts are one NU per neuron per step; the spike count is returned") {
    op_counts ops;
    std::vector<float> x(3 * 5, 1.5f), s(x.size()), h(x.size());
    const auto spikes = lif_forward(s.data(), h.data(), x.data(), 3, 5, lif_params{}, &ops);
    CHECK(ops[op_class::nu] == 15);
    CHECK(ops[op_class::ac] == 0);
    CHECK(spikes == 5);  // every neuron fires once, at t = 1
    op_counts fast;
    cpu::lif_forward(s.data(), h.data(), x.data(), 3, 5, lif_params{}, &fast);
    CHECK(fast == ops);
}

TEST_CASE("lif: parameters outside their domain are rejected with the value") {
    lif_params p;
    p.tau = 1.0f;
    std::vector<float> x(1), s(1), h(1);
    CHECK_THROWS_WITH_AS(lif_forward(s.data(), h.data(), x.data(), 1, 1, p),
                         "lif: tau = 1.000000, must be > 1 and finite", config_error);
    p = lif_params{};
    p.v_reset = 2.0f;
    CHECK_THROWS_AS(cpu::lif_forward(s.data(), h.data(), x.data(), 1, 1, p), config_error);
    CHECK_THROWS_AS(surrogate_kind_from_name("relu"), config_error);
}
