// Forward spikes and BPTT gradients against PyTorch autograd (tests/data/neurons_golden.json, made by
// tools/gen_neuron_golden.py from an independent torch implementation of docs/model.md §2). Spikes must match
// exactly; gradients within |ours - torch| <= 1e-5 |torch| + 1e-6 max|torch| (float32 sums in a
// different order), for every backend this build can run.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "neurons/backend.hpp"

using namespace wtasim;

namespace {
// WTASIM_TEST_DATA_DIR in the environment overrides the source tree's tests/data (for a binary that
// was built elsewhere, e.g. carried to a GPU machine).
nlohmann::json load_golden() {
    const char* dir = std::getenv("WTASIM_TEST_DATA_DIR");
    const std::string path = std::string(dir ? dir : WTASIM_TEST_DATA_DIR) + "/neurons_golden.json";
    std::ifstream in(path);
    REQUIRE_MESSAGE(in.good(), "cannot open " << path);
    return nlohmann::json::parse(in);
}

lif_params lif_from(const nlohmann::json& p) {
    lif_params q;
    q.tau = p["tau"];
    q.v_th = p["v_th"];
    q.v_reset = p["v_reset"];
    q.decay_input = p["decay_input"];
    q.detach_reset = p["detach_reset"];
    q.reset = p["reset"] == "hard" ? reset_mode::hard : reset_mode::soft;
    q.sg = {surrogate_kind_from_name(p["surrogate"]), p["alpha"]};
    return q;
}

void check_close(const std::vector<float>& ours, const std::vector<float>& ref, double rtol) {
    double scale = 0.0;
    for (float r : ref) scale = std::max(scale, double(std::abs(r)));
    std::size_t bad = 0;
    for (std::size_t i = 0; i < ref.size(); ++i)
        if (std::abs(double(ours[i]) - ref[i]) > rtol * std::abs(ref[i]) + 1e-6 * scale) ++bad;
    CHECK(bad == 0);
}
}  // namespace

TEST_CASE("golden: LIF and NI-LIF forward and backward equal PyTorch autograd") {
    const auto golden = load_golden();
    REQUIRE(golden["cases"].size() >= 10);
    for (const std::string& name : neuron_backend_names()) {
        const neuron_backend& b = neuron_backend_named(name);
        for (const auto& c : golden["cases"]) {
            CAPTURE(name);
            const std::string case_name = c["name"];
            CAPTURE(case_name);
            const std::size_t T = c["T"], n = c["n"];
            const auto x = c["x"].get<std::vector<float>>(), ds = c["ds"].get<std::vector<float>>();
            const auto s_ref = c["s"].get<std::vector<float>>(), dx_ref = c["dx"].get<std::vector<float>>();
            std::vector<float> s(T * n), state(T * n), dx(T * n);
            if (c["kind"] == "lif") {
                if (!b.supports_lif()) continue;
                const lif_params p = lif_from(c["params"]);
                b.lif_forward(s.data(), state.data(), x.data(), T, n, p, nullptr, {});
                CHECK(s == s_ref);
                b.lif_backward(dx.data(), ds.data(), s.data(), state.data(), T, n, p, {}, nullptr, nullptr);
            } else {
                if (!b.supports_nilif()) continue;
                const nilif_params p{c["params"]["levels"], c["params"]["beta"]};
                b.nilif_forward(s.data(), state.data(), x.data(), T, n, p, nullptr);
                CHECK(s == s_ref);
                b.nilif_backward(dx.data(), ds.data(), state.data(), T, n, p);
            }
            // The surrogate spends most of its mass near the threshold: a test that could not fail
            // would have no spikes or no gradient at all.
            CHECK(std::count(s_ref.begin(), s_ref.end(), 0.0f) < static_cast<long>(s_ref.size()));
            check_close(dx, dx_ref, 1e-5);
        }
    }
}
