// Every CPU backend against the serial reference through the consistency harness (consistency.hpp),
// with 1 and 2 threads: results must be bit-identical whatever the thread count.
#include <doctest/doctest.h>

#include "consistency.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"

using namespace wtasim;

TEST_CASE("backends: cpu LIF and NI-LIF are bit-identical to the reference for 1 and 2 threads") {
    for (std::size_t threads : {1u, 2u}) {
        CAPTURE(threads);
        thread_limit limit(threads);
        test::check_backend_against_reference("cpu");
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
