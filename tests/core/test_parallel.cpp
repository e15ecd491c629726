// parallel_for covers every index once; deterministic_reduce gives bit-identical float sums for any
// thread count (a naive parallel float sum would not).
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/parallel.hpp"
#include "core/rng.hpp"

using namespace wtasim;

TEST_CASE("parallel_for: every index visited exactly once, with chunks of at least the grain") {
    for (std::size_t n : {0u, 1u, 7u, 1000u, 100003u}) {
        std::vector<std::atomic<int>> hits(n);
        std::atomic<std::size_t> small_chunks{0};
        parallel_for(n, 64, [&](std::size_t b, std::size_t e) {
            if (e - b < 32 && e != n) ++small_chunks;  // blocked_range splits down to grain/2 at most
            for (std::size_t i = b; i < e; ++i) ++hits[i];
        });
        for (std::size_t i = 0; i < n; ++i) REQUIRE(hits[i] == 1);
        CHECK(small_chunks == 0);
    }
}

TEST_CASE("parallel: deterministic_reduce is bit-identical for 1 and 2 threads") {
    std::vector<float> x(1 << 20);
    counter_rng(5).fill_normal(x.data(), x.size(), 0, 0, 0.0f, 1e3f);
    auto sum = [&] {
        return deterministic_reduce<float>(
            x.size(), 1000, 0.0f,
            [&](std::size_t b, std::size_t e) {
                float s = 0.0f;
                for (std::size_t i = b; i < e; ++i) s += x[i];
                return s;
            },
            [](float a, float b) { return a + b; });
    };
    float one, two;
    {
        thread_limit limit(1);
        CHECK(max_threads() == 1);
        one = sum();
    }
    {
        thread_limit limit(2);
        two = sum();
    }
    CHECK(std::memcmp(&one, &two, sizeof(float)) == 0);
    double exact = 0.0;
    for (float v : x) exact += v;
    CHECK(std::abs(one - exact) < 1e-3 * std::sqrt(double(x.size())) * 1e3);
}
