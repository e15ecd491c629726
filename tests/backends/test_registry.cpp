// The backend registries (core/backend_registry.hpp and the family tables built on it): the names every
// validator and --help text offers, the one error message for an unknown or absent backend, the block's
// names, and what a backend says it does not support.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "attention/backend.hpp"
#include "attention/block.hpp"
#include "core/backend_registry.hpp"
#include "core/error.hpp"
#include "neurons/backend.hpp"

using namespace wtasim;

namespace {
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const backend_error& e) {
        return e.what();
    }
    return "(no backend_error)";
}

bool has(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

struct toy_backend {
    std::string name;
    int id;
};
}  // namespace

TEST_CASE("registry: the shared helper looks names up, lists them in order and says why one is absent") {
    const backend_registry<toy_backend> r("toy", {{"reference", 0}, {"fast", 1}}, {{"gpu", "no device here"}});
    CHECK(r.names() == std::vector<std::string>{"reference", "fast"});
    CHECK(r.named("fast").id == 1);
    CHECK(error_of([&] { r.named("slow"); }) ==
          "toy backend \"slow\" is not available, expected one of reference, fast");
    CHECK(error_of([&] { r.named("gpu"); }) ==
          "toy backend \"gpu\" is not available (no device here), expected one of reference, fast");
    CHECK(join_backend_names({}) == "");
    CHECK(join_backend_names({"a"}) == "a");
    CHECK(common_backend_names({{"a", "b", "c"}, {"c", "a"}, {"a", "c", "d"}}) == std::vector<std::string>{"a", "c"});
    CHECK(common_backend_names({}).empty());
}

TEST_CASE("registry: every family lists the reference first, then cpu") {
    for (const auto& names : {neuron_backend_names(), attention_backend_names(), linear_backend_names()}) {
        REQUIRE(names.size() >= 2);
        CHECK(names[0] == "reference");
        CHECK(names[1] == "cpu");
    }
    for (const std::string& name : neuron_backend_names()) CHECK(neuron_backend_named(name).name == name);
    for (const std::string& name : attention_backend_names()) CHECK(attention_backend_named(name).name == name);
    for (const std::string& name : linear_backend_names()) CHECK(linear_backend_named(name).name == name);
}

TEST_CASE("registry: an unknown backend fails with the family, the value and the choices") {
    CHECK_THROWS_AS(neuron_backend_named("fpga"), backend_error);
    CHECK(error_of([] {
              neuron_backend_named("fpga");
          }).find("neuron backend \"fpga\" is not available, expected one of reference, cpu") == 0);
    CHECK(error_of([] { attention_backend_named("fpga"); }) ==
          "attention backend \"fpga\" is not available, expected one of reference, cpu");
    CHECK(error_of([] { linear_backend_named("fpga"); }) ==
          "linear backend \"fpga\" is not available, expected one of reference, cpu");
}

TEST_CASE("registry: an absent cuda backend says why") {
    if (!has(neuron_backend_names(), "cuda")) {
        const std::string e = error_of([] { neuron_backend_named("cuda"); });
        CHECK(e.find("neuron backend \"cuda\" is not available (this build has ") == 0);
    }
    CHECK(error_of([] {
              attention_backend_named("cuda");
          }).find("attention backend \"cuda\" is not available (there are no CUDA attention") == 0);
    CHECK(error_of([] { linear_backend_named("cuda"); }).find("(there are no CUDA attention or linear kernels yet)") !=
          std::string::npos);
}

TEST_CASE("registry: a block takes exactly the names that every family has") {
    const auto names = block_backend_names();
    CHECK(names == std::vector<std::string>{"reference", "cpu"});
    block_config cfg;
    cfg.D = 8;
    cfg.H = 2;
    cfg.F = 16;
    for (const std::string& name : names) {
        CHECK(has(neuron_backend_names(), name));
        CHECK(has(attention_backend_names(), name));
        CHECK(has(linear_backend_names(), name));
        cfg.backend = name;
        CHECK_NOTHROW(spiking_block{cfg});
    }
    cfg.backend = "fpga";
    CHECK_THROWS_AS(spiking_block{cfg}, backend_error);
    cfg.backend = "cuda";  // no CUDA attention kernels: refused when the block is built, whatever the build
    CHECK_THROWS_AS(spiking_block{cfg}, backend_error);
}

TEST_CASE("registry: a backend that scores by popcount refuses real-valued Q and K") {
    CHECK(attention_backend_named("cpu").binary_qk_only);
    CHECK_FALSE(attention_backend_named("reference").binary_qk_only);
    const attention_dims d{seq_shape{1, 1, 3}, 1, 4, nullptr};
    const std::vector<float> half(12, 0.5f), spikes(12, 1.0f);
    std::vector<float> o(12);
    attention_config cfg;
    cfg.kind = attention_kind::ssa;
    for (const std::string& name : attention_backend_names()) {
        CAPTURE(name);
        const attention_backend& b = attention_backend_named(name);
        if (b.binary_qk_only)
            CHECK_THROWS_AS(b.forward(o.data(), nullptr, half.data(), spikes.data(), spikes.data(), d, cfg),
                            internal_error);
        else
            CHECK_NOTHROW(b.forward(o.data(), nullptr, half.data(), spikes.data(), spikes.data(), d, cfg));
    }
}
