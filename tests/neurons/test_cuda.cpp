// The CUDA backend through the consistency harness (label `cuda`: needs a GPU). The kernels use the
// shared host/device surrogate and compile without FMA contraction, so everything is bit-identical.
#include <doctest/doctest.h>

#include <algorithm>

#include "consistency.hpp"

using namespace wtasim;

TEST_CASE("cuda: LIF and NI-LIF forward and backward are bit-identical to the reference") {
    const auto names = neuron_backend_names();
    REQUIRE_MESSAGE(std::find(names.begin(), names.end(), "cuda") != names.end(), "no CUDA device visible");
    CHECK(neuron_backend_named("cuda").supports_nilif());
    test::check_backend_against_reference("cuda");
}
