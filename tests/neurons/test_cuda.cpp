// The CUDA LIF against the serial reference (label `cuda`: needs a GPU). Forward spikes, membranes and
// counts must be bit-identical (no FMA contraction, IEEE division); the backward within
// 1e-5 |reference| + 1e-7 (the device expf of the sigmoid surrogate may differ by an ulp or two).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/rng.hpp"
#include "neurons/backend.hpp"

using namespace wtasim;

TEST_CASE("cuda: LIF forward and backward match the reference") {
    const auto names = neuron_backend_names();
    REQUIRE_MESSAGE(std::find(names.begin(), names.end(), "cuda") != names.end(), "no CUDA device visible");
    const auto& gpu = neuron_backend_named("cuda");
    const auto& ref = neuron_backend_named("reference");
    CHECK_FALSE(gpu.supports_nilif());
    const std::size_t T = 4, n = 100003;
    std::vector<float> x(T * n), ds(T * n);
    counter_rng(7).fill_normal(x.data(), x.size(), 0, 0, 1.2f, 1.0f);
    counter_rng(7).fill_normal(ds.data(), ds.size(), 1, 0, 0.0f, 1.0f);
    for (bool decay_input : {true, false})
        for (reset_mode reset : {reset_mode::hard, reset_mode::soft})
            for (bool detach : {true, false})
                for (surrogate sg : {surrogate::sigmoid(), surrogate::atan()}) {
                    lif_params p;
                    p.decay_input = decay_input;
                    p.reset = reset;
                    p.detach_reset = detach;
                    p.sg = sg;
                    std::vector<float> s_ref(T * n), h_ref(T * n), dx_ref(T * n), s(T * n), h(T * n), dx(T * n);
                    op_counts ops_ref, ops;
                    const auto spikes_ref = ref.lif_forward(s_ref.data(), h_ref.data(), x.data(), T, n, p, &ops_ref);
                    const auto spikes = gpu.lif_forward(s.data(), h.data(), x.data(), T, n, p, &ops);
                    CHECK(spikes == spikes_ref);
                    CHECK(ops == ops_ref);
                    CHECK(std::memcmp(s.data(), s_ref.data(), s.size() * sizeof(float)) == 0);
                    CHECK(std::memcmp(h.data(), h_ref.data(), h.size() * sizeof(float)) == 0);
                    ref.lif_backward(dx_ref.data(), ds.data(), s_ref.data(), h_ref.data(), T, n, p);
                    gpu.lif_backward(dx.data(), ds.data(), s_ref.data(), h_ref.data(), T, n, p);
                    std::size_t bad = 0;
                    for (std::size_t k = 0; k < dx.size(); ++k)
                        if (std::abs(dx[k] - dx_ref[k]) > 1e-5f * std::abs(dx_ref[k]) + 1e-7f) ++bad;
                    CHECK(bad == 0);
                }
}
