// The neuron consistency harness (ggml test-backend-ops style): a backend against the serial reference
// on random inputs over every parameter combination. Backends perform the reference's float operations
// in the same order per element, so spikes, membranes, gradients and counts must be bit-identical.
#pragma once

#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "core/rng.hpp"
#include "neurons/backend.hpp"

namespace wtasim::test {
inline bool bit_equal(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct outputs {
    std::vector<float> s, state, dx;
    std::uint64_t events;
    op_counts ops;
};

// n is deliberately not a multiple of the cpu backend's block (512) or grain (4096).
constexpr std::size_t T = 4, n = 9001;

inline std::vector<float> random_vector(std::uint64_t stream, float mean, float stddev) {
    std::vector<float> v(T * n);
    counter_rng(99).fill_normal(v.data(), v.size(), stream, 0, mean, stddev);
    return v;
}

inline outputs run_lif(const neuron_backend& b, const lif_params& p, const std::vector<float>& x,
                       const std::vector<float>& ds) {
    outputs o{std::vector<float>(T * n), std::vector<float>(T * n), std::vector<float>(T * n), 0, {}};
    o.events = b.lif_forward(o.s.data(), o.state.data(), x.data(), T, n, p, &o.ops);
    b.lif_backward(o.dx.data(), ds.data(), o.s.data(), o.state.data(), T, n, p);
    return o;
}

inline outputs run_nilif(const neuron_backend& b, const nilif_params& p, const std::vector<float>& x,
                         const std::vector<float>& ds) {
    outputs o{std::vector<float>(T * n), std::vector<float>(T * n), std::vector<float>(T * n), 0, {}};
    o.events = b.nilif_forward(o.s.data(), o.state.data(), x.data(), T, n, p, &o.ops);
    b.nilif_backward(o.dx.data(), ds.data(), o.state.data(), T, n, p);
    return o;
}

inline void check_same(const outputs& a, const outputs& r) {
    CHECK(bit_equal(a.s, r.s));
    CHECK(bit_equal(a.state, r.state));
    CHECK(bit_equal(a.dx, r.dx));
    CHECK(a.events == r.events);
    CHECK(a.ops == r.ops);
}

inline std::vector<lif_params> all_lif_params() {
    std::vector<lif_params> all;
    for (bool decay_input : {true, false})
        for (reset_mode reset : {reset_mode::hard, reset_mode::soft})
            for (bool detach : {true, false})
                for (surrogate sg : {surrogate::sigmoid(), surrogate::atan()}) {
                    lif_params p;
                    p.decay_input = decay_input;
                    p.reset = reset;
                    p.detach_reset = detach;
                    p.sg = sg;
                    all.push_back(p);
                }
    return all;
}

inline const std::vector<nilif_params> all_nilif_params = {{4, 0.5f}, {3, 0.25f}, {1, 1.0f}};

// Runs every LIF and NI-LIF case on `name` and the reference; `threads` is applied by the caller.
inline void check_backend_against_reference(const std::string& name) {
    const auto& ref = neuron_backend_named("reference");
    const auto& b = neuron_backend_named(name);
    REQUIRE(b.supports_lif());
    {
        const auto x = random_vector(0, 1.2f, 1.0f), ds = random_vector(1, 0.0f, 1.0f);
        for (const lif_params& p : all_lif_params()) {
            const outputs expected = run_lif(ref, p, x, ds);
            CHECK(expected.events > 0);
            CHECK(expected.events < T * n);
            check_same(run_lif(b, p, x, ds), expected);
        }
    }
    if (!b.supports_nilif()) return;
    const auto x = random_vector(2, 1.0f, 2.0f), ds = random_vector(3, 0.0f, 1.0f);
    for (const nilif_params& p : all_nilif_params) {
        const outputs expected = run_nilif(ref, p, x, ds);
        CHECK(expected.events > 0);
        check_same(run_nilif(b, p, x, ds), expected);
    }
}

}  // namespace wtasim::test
