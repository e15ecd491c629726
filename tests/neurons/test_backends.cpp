// The consistency harness for neurons: every compiled CPU backend against the serial reference on
// random inputs over all parameter combinations, with 1 and 2 threads. The cpu backend performs the
// reference's float operations in the same order, so spikes, membranes, gradients and counts must be
// bit-identical (a layout bug or a mis-carried membrane between blocks would show at once).
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "neurons/backend.hpp"

using namespace wtasim;

namespace {
bool bit_equal(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct outputs {
    std::vector<float> s, state, dx;
    std::uint64_t events;
    op_counts ops;
};

// n is deliberately not a multiple of the cpu backend's block (512) or grain (4096).
constexpr std::size_t T = 4, n = 9001;

std::vector<float> random_vector(std::uint64_t stream, float mean, float stddev) {
    std::vector<float> v(T * n);
    counter_rng(99).fill_normal(v.data(), v.size(), stream, 0, mean, stddev);
    return v;
}

outputs run_lif(const neuron_backend& b, const lif_params& p, const std::vector<float>& x,
                const std::vector<float>& ds) {
    outputs o{std::vector<float>(T * n), std::vector<float>(T * n), std::vector<float>(T * n), 0, {}};
    o.events = b.lif_forward(o.s.data(), o.state.data(), x.data(), T, n, p, &o.ops);
    b.lif_backward(o.dx.data(), ds.data(), o.s.data(), o.state.data(), T, n, p);
    return o;
}

outputs run_nilif(const neuron_backend& b, const nilif_params& p, const std::vector<float>& x,
                  const std::vector<float>& ds) {
    outputs o{std::vector<float>(T * n), std::vector<float>(T * n), std::vector<float>(T * n), 0, {}};
    o.events = b.nilif_forward(o.s.data(), o.state.data(), x.data(), T, n, p, &o.ops);
    b.nilif_backward(o.dx.data(), ds.data(), o.state.data(), T, n, p);
    return o;
}

void check_same(const outputs& a, const outputs& r) {
    CHECK(bit_equal(a.s, r.s));
    CHECK(bit_equal(a.state, r.state));
    CHECK(bit_equal(a.dx, r.dx));
    CHECK(a.events == r.events);
    CHECK(a.ops == r.ops);
}
}  // namespace

TEST_CASE("backends: cpu LIF is bit-identical to the reference for 1 and 2 threads") {
    const auto x = random_vector(0, 1.2f, 1.0f), ds = random_vector(1, 0.0f, 1.0f);
    const auto& ref = neuron_backend_named("reference");
    const auto& fast = neuron_backend_named("cpu");
    for (bool decay_input : {true, false})
        for (reset_mode reset : {reset_mode::hard, reset_mode::soft})
            for (bool detach : {true, false})
                for (surrogate sg : {surrogate::sigmoid(), surrogate::atan()}) {
                    lif_params p;
                    p.decay_input = decay_input;
                    p.reset = reset;
                    p.detach_reset = detach;
                    p.sg = sg;
                    const outputs expected = run_lif(ref, p, x, ds);
                    CHECK(expected.events > 0);
                    CHECK(expected.events < T * n);
                    for (std::size_t threads : {1u, 2u}) {
                        CAPTURE(threads);
                        thread_limit limit(threads);
                        check_same(run_lif(fast, p, x, ds), expected);
                    }
                }
}

TEST_CASE("backends: cpu NI-LIF is bit-identical to the reference for 1 and 2 threads") {
    const auto x = random_vector(2, 1.0f, 2.0f), ds = random_vector(3, 0.0f, 1.0f);
    for (nilif_params p : {nilif_params{4, 0.5f}, nilif_params{3, 0.25f}, nilif_params{1, 1.0f}}) {
        const outputs expected = run_nilif(neuron_backend_named("reference"), p, x, ds);
        CHECK(expected.events > 0);
        for (std::size_t threads : {1u, 2u}) {
            thread_limit limit(threads);
            check_same(run_nilif(neuron_backend_named("cpu"), p, x, ds), expected);
        }
    }
}

TEST_CASE("backends: the factory names what exists and refuses what does not") {
    const auto names = neuron_backend_names();
    REQUIRE(names.size() >= 2);
    CHECK(names[0] == "reference");
    CHECK(names[1] == "cpu");
    CHECK_THROWS_AS(neuron_backend_named("fpga"), backend_error);
    try {
        neuron_backend_named("fpga");
    } catch (const backend_error& e) {
        CHECK(std::string(e.what()).find("neuron backend \"fpga\" is not available, expected one of reference, cpu") ==
              0);
    }
}
