// Philox4x32-10 against the published known-answer vectors, and the properties wtasim relies on:
// numbers depend only on (seed, stream, index), not on threads; uniform/normal have the right moments.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/parallel.hpp"
#include "core/rng.hpp"

using namespace wtasim;

TEST_CASE("rng: Philox4x32-10 known-answer vectors (Random123 kat_vectors)") {
    CHECK(philox4x32_10({0, 0, 0, 0}, {0, 0}) == philox_block{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
    CHECK(philox4x32_10({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu}) ==
          philox_block{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
    CHECK(philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, {0xa4093822u, 0x299f31d0u}) ==
          philox_block{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});
}

TEST_CASE("rng: streams and seeds are independent, draws are pure functions") {
    counter_rng a(7), b(8);
    CHECK(a.bits(0, 0) == a.bits(0, 0));
    CHECK(a.bits(0, 0) != a.bits(1, 0));
    CHECK(a.bits(0, 0) != a.bits(0, 1));
    CHECK(a.bits(0, 0) != b.bits(0, 0));
    CHECK(a.bits(0, std::uint64_t{1} << 32) != a.bits(0, 0));  // the high index word is used
}

TEST_CASE("rng: fills are identical for 1 and 2 threads") {
    counter_rng rng(123);
    std::vector<float> one(100000), two(100000);
    {
        thread_limit limit(1);
        rng.fill_normal(one.data(), one.size(), 3, 10, 0.0f, 1.0f);
    }
    {
        thread_limit limit(2);
        rng.fill_normal(two.data(), two.size(), 3, 10, 0.0f, 1.0f);
    }
    CHECK(one == two);
    CHECK(one[5] == rng.normal(3, 15));
}

TEST_CASE("rng: uniform, normal and below have the expected moments") {
    counter_rng rng(2026);
    const std::size_t n = 200000;
    double su = 0, su2 = 0, sn = 0, sn2 = 0;
    std::vector<std::size_t> bins(10, 0);
    for (std::size_t i = 0; i < n; ++i) {
        const double u = rng.uniform(0, i), z = rng.normal(1, i);
        REQUIRE(u >= 0.0);
        REQUIRE(u < 1.0);
        su += u, su2 += u * u, sn += z, sn2 += z * z;
        ++bins[rng.below(2, i, 10)];
    }
    // Standard errors: uniform mean 0.29/sqrt(n) ~ 6.5e-4, normal mean 1/sqrt(n) ~ 2.2e-3.
    CHECK(std::abs(su / n - 0.5) < 4e-3);
    CHECK(std::abs(su2 / n - 1.0 / 3.0) < 4e-3);
    CHECK(std::abs(sn / n) < 1.2e-2);
    CHECK(std::abs(sn2 / n - 1.0) < 1.5e-2);
    for (std::size_t c : bins) CHECK(std::abs(double(c) / n - 0.1) < 5e-3);
}
