// The consistency harness (ggml's test-backend-ops): an op case runs one op on one named backend and
// returns its outputs; `check_family` runs every case of a family on every registered backend of that
// family, with 1 and 2 threads, against the reference run with 1 thread:
// - counts (spikes, events, op counts, winners) must be equal;
// - floats must be bit-identical unless the case states a tolerance for that output, in which case
//   |got - reference| <= rel * max |reference| over the output;
// - every backend's 2-thread run must equal its own 1-thread run bit for bit (fixed chunking);
// - every float output of the reference must vary (not all equal): a case that fires nothing or
//   passes no gradient could not fail.
// `check_gradient` is the grad mode: the reference backward against central finite differences.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "attention/backend.hpp"
#include "common/finite_difference.hpp"
#include "core/parallel.hpp"
#include "neurons/backend.hpp"

namespace wtasim::test {

struct op_outputs {
    std::vector<std::pair<std::string, std::vector<float>>> floats;
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> counts;

    void add(std::string name, std::vector<float> v) { floats.emplace_back(std::move(name), std::move(v)); }
    void add_counts(std::string name, std::vector<std::int64_t> v) {
        counts.emplace_back(std::move(name), std::move(v));
    }
    void add_ops(std::string name, const op_counts& ops) {
        add_counts(std::move(name), std::vector<std::int64_t>(ops.n.begin(), ops.n.end()));
    }
};

struct op_case {
    std::string family;  // whose registry names the backends: neurons, attention, linear, batchnorm, block
    std::string name;
    // Float outputs that may differ from the reference, and by how much (relative to max |reference|);
    // every output not listed must be bit-identical.
    std::vector<std::pair<std::string, double>> tolerances;
    std::function<op_outputs(const std::string& backend)> run;
    // What the reference's own outputs must satisfy (optional), e.g. a count worked out independently.
    std::function<void(const op_outputs&)> check_reference = nullptr;

    double tolerance_of(const std::string& output) const {
        for (const auto& [listed, rel] : tolerances)
            if (listed == output) return rel;
        return 0.0;
    }
};

// The backends of a family, reference first. BatchNorm has one implementation that every backend uses
// (attention/batchnorm.hpp), checked here for thread-count independence.
inline std::vector<std::string> backends_of(const std::string& family) {
    if (family == "neurons") return neuron_backend_names();
    if (family == "attention") return attention_backend_names();
    if (family == "linear") return linear_backend_names();
    if (family == "block") return block_backend_names();
    if (family == "batchnorm") return {"reference"};
    FAIL("no registry for family " << family);
    return {};
}

// Device backends run under the `cuda` label only.
inline bool is_device_backend(const std::string& name) {
    return name == "cuda";
}

inline double max_abs(const std::vector<float>& v) {
    double m = 0.0;
    for (float x : v) m = std::max(m, double(std::abs(x)));
    return m;
}

// Index of the first element outside |got - ref| <= rel * max|ref| (rel = 0: the first differing bit
// pattern), or got.size() if there is none. NaN is never within tolerance.
inline std::size_t first_mismatch(const std::vector<float>& got, const std::vector<float>& ref, double rel) {
    if (rel == 0.0) {
        for (std::size_t i = 0; i < ref.size(); ++i)
            if (std::memcmp(&got[i], &ref[i], sizeof(float)) != 0) return i;
        return ref.size();
    }
    const double bound = rel * max_abs(ref);
    for (std::size_t i = 0; i < ref.size(); ++i)
        if (!(std::abs(double(got[i]) - double(ref[i])) <= bound)) return i;
    return ref.size();
}

// `got` against `ref`; `exact` ignores the case's tolerances (a backend against itself).
inline void compare_outputs(const op_outputs& got, const op_outputs& ref, const op_case& c, bool exact) {
    REQUIRE(got.floats.size() == ref.floats.size());
    for (std::size_t i = 0; i < ref.floats.size(); ++i) {
        const auto& [name, r] = ref.floats[i];
        const auto& g = got.floats[i].second;
        CAPTURE(name);
        REQUIRE(got.floats[i].first == name);
        REQUIRE(g.size() == r.size());
        const std::size_t at = first_mismatch(g, r, exact ? 0.0 : c.tolerance_of(name));
        const std::string where = at < r.size() ? "first mismatch at " + std::to_string(at) + ": " +
                                                      std::to_string(g[at]) + " vs reference " + std::to_string(r[at])
                                                : "";
        CHECK_MESSAGE(at == r.size(), where);
    }
    REQUIRE(got.counts.size() == ref.counts.size());
    for (std::size_t i = 0; i < ref.counts.size(); ++i) {
        CAPTURE(ref.counts[i].first);
        CHECK(got.counts[i].first == ref.counts[i].first);
        CHECK(got.counts[i].second == ref.counts[i].second);
    }
}

inline op_outputs run_with_threads(const op_case& c, const std::string& backend, std::size_t threads) {
    thread_limit limit(threads);
    return c.run(backend);
}

// Runs every case of `family` on its host backends (device = false) or on its device backends.
// Returns the number of (case, backend) pairs compared, so a caller can require that something ran.
inline std::size_t check_family(const std::vector<op_case>& cases, const std::string& family, bool device) {
    std::size_t compared = 0;
    for (const op_case& c : cases) {
        if (c.family != family) continue;
        CAPTURE(c.name);
        const op_outputs ref = run_with_threads(c, "reference", 1);
        for (const auto& [name, r] : ref.floats) {
            CAPTURE(name);
            CHECK(std::adjacent_find(r.begin(), r.end(), std::not_equal_to<>()) != r.end());
        }
        if (c.check_reference) c.check_reference(ref);
        for (const std::string& backend : backends_of(family)) {
            if (is_device_backend(backend) != device) continue;
            CAPTURE(backend);
            const op_outputs one = backend == "reference" ? ref : run_with_threads(c, backend, 1);
            if (backend != "reference") compare_outputs(one, ref, c, false);
            compare_outputs(run_with_threads(c, backend, 2), one, c, true);
            ++compared;
        }
    }
    return compared;
}

// Grad mode: a scalar loss of the inputs x computed by the reference forward, and the reference
// backward's gradient of it; they must agree within rel * max |numeric| (and the gradient must exist).
struct grad_case {
    std::string name;
    double eps, rel;
    std::vector<double> x;
    std::function<double(const std::vector<double>&)> loss;
    std::function<std::vector<float>(const std::vector<double>&)> gradient;
};

inline void check_gradient(const grad_case& g) {
    CAPTURE(g.name);
    const auto numeric = central_difference(g.x, g.eps, g.loss);
    const auto analytic = g.gradient(g.x);
    REQUIRE(analytic.size() == numeric.size());
    double scale = 0.0;
    for (double v : numeric) scale = std::max(scale, std::abs(v));
    REQUIRE(scale > 1e-3);
    std::size_t bad = 0, first = numeric.size();
    for (std::size_t i = 0; i < numeric.size(); ++i)
        if (!(std::abs(analytic[i] - numeric[i]) <= g.rel * scale)) first = std::min(first, i), ++bad;
    const std::string where = bad ? "first at " + std::to_string(first) + ": " + std::to_string(analytic[first]) +
                                        " vs numeric " + std::to_string(numeric[first])
                                  : "";
    CHECK_MESSAGE(bad == 0, where);
}

}  // namespace wtasim::test
