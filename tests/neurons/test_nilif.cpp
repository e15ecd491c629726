// NI-LIF levels, rounding and straight-through gradients worked out by hand from docs/model.md §2.2.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "core/error.hpp"
#include "neurons/backend.hpp"

using namespace wtasim;

namespace {
struct nilif_run {
    std::vector<float> s, u;
    std::uint64_t events;
};
nilif_run run(const neuron_backend& b, const std::vector<float>& x, std::size_t T, const nilif_params& p,
              op_counts* ops = nullptr) {
    nilif_run r{std::vector<float>(x.size()), std::vector<float>(x.size()), 0};
    r.events = b.nilif_forward(r.s.data(), r.u.data(), x.data(), T, x.size() / T, p, ops);
    return r;
}
}  // namespace

TEST_CASE("nilif: constant input, D = 4, beta = 0.5") {
    // U = Hm + 1.25: 1.25 -> level 1, Hm = 0.5 (1.25 - 1) = 0.125 | 1.375 -> 1, Hm = 0.1875 |
    // 1.4375 -> 1, Hm = 0.21875 | 1.46875 -> 1.
    for (const char* name : {"reference", "cpu"}) {
        auto r = run(neuron_backend_named(name), std::vector<float>(4, 1.25f), 4, nilif_params{});
        CHECK(r.u == std::vector<float>{1.25f, 1.375f, 1.4375f, 1.46875f});
        CHECK(r.s == std::vector<float>{0.25f, 0.25f, 0.25f, 0.25f});
        CHECK(r.events == 4);
    }
    // x = 1.75: 1.75 -> 2 (S 0.5), Hm = -0.125 | 1.625 -> 2, Hm = -0.1875 | 1.5625 -> 2 | ...
    auto r = run(neuron_backend_named("reference"), std::vector<float>(3, 1.75f), 3, nilif_params{});
    CHECK(r.s == std::vector<float>{0.5f, 0.5f, 0.5f});
    CHECK(r.events == 6);
}

TEST_CASE("nilif: rounds half to even and clips to [0, D]") {
    // One step, eight neurons: U = x.
    std::vector<float> x{0.5f, 1.5f, 2.5f, 3.5f, -0.7f, 9.0f, 4.49f, -0.5f};
    for (const char* name : {"reference", "cpu"}) {
        op_counts ops;
        auto r = run(neuron_backend_named(name), x, 1, nilif_params{}, &ops);
        CHECK(r.s == std::vector<float>{0.0f, 0.5f, 0.5f, 1.0f, 0.0f, 1.0f, 1.0f, 0.0f});
        CHECK(r.events == 0 + 2 + 2 + 4 + 0 + 4 + 4 + 0);
        CHECK(ops[op_class::nu] == 8);
    }
}

TEST_CASE("nilif: a silent neuron emits +0, never -0 (a CUDA/CPU mismatch once came from -0)") {
    // U = -0.3 rounds to -0; the spike must be the bit pattern of +0 on every backend.
    for (const std::string& name : neuron_backend_names()) {
        auto r = run(neuron_backend_named(name), {-0.3f, -0.5f}, 1, nilif_params{});
        for (float v : r.s) CHECK_FALSE(std::signbit(v));
    }
}

TEST_CASE("nilif: straight-through backward, worked by hand") {
    // x = (1.25, 1.25) as above, dL/dS = (1, 2). U = (1.25, 1.375), both inside [0, 4]:
    // gU1 = 2/4 = 0.5; dx1 = 0.5. gHm0 = 0.5; gU0 = 1/4 + 0.5 * 0.5 * (1 - 4/4) = 0.25.
    // Clipped U (outside [0, D]) passes no spike gradient but the full beta-leak path.
    for (const char* name : {"reference", "cpu"}) {
        const auto& b = neuron_backend_named(name);
        auto r = run(b, {1.25f, 1.25f}, 2, nilif_params{});
        std::vector<float> ds{1.0f, 2.0f}, dx(2);
        b.nilif_backward(dx.data(), ds.data(), r.u.data(), 2, 1, nilif_params{});
        CHECK(dx == std::vector<float>{0.25f, 0.5f});
        // x0 = 6 clips (U0 = 6 > 4): level 4, Hm0 = 0.5 (6 - 4) = 1; U1 = 1 + 1.25 = 2.25.
        // gU1 = 0.5, gU0 = 0 + 0.5 * 0.5 * (1 - 0) = 0.25.
        r = run(b, {6.0f, 1.25f}, 2, nilif_params{});
        b.nilif_backward(dx.data(), ds.data(), r.u.data(), 2, 1, nilif_params{});
        CHECK(dx == std::vector<float>{0.25f, 0.5f});
    }
}

TEST_CASE("nilif: parameters outside their domain are rejected") {
    nilif_params p;
    p.levels = 0;
    std::vector<float> x(1), s(1), u(1);
    CHECK_THROWS_WITH_AS(nilif_forward(s.data(), u.data(), x.data(), 1, 1, p), "nilif: levels = 0, must be >= 1",
                         config_error);
    p = nilif_params{};
    p.beta = 1.5f;
    CHECK_THROWS_AS(cpu::nilif_forward(s.data(), u.data(), x.data(), 1, 1, p), config_error);
}
