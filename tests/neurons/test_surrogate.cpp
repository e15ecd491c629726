// The portable exp behind the sigmoid surrogate, against the C library's exp in double, and the
// surrogates against their definitions (docs/model.md §2.1).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "neurons/surrogate.hpp"

using namespace wtasim;

TEST_CASE("surrogate: portable_exp is within 2 ulp of exp over [-87, 88]") {
    double worst = 0.0;
    for (int i = 0; i <= 200000; ++i) {
        const float x = -87.0f + 175.0f * static_cast<float>(i) / 200000.0f;
        const double exact = std::exp(double(x));
        const double ulp = std::ldexp(1.0, std::ilogb(exact) - 23);  // float ulp at this magnitude
        worst = std::max(worst, std::abs(double(portable_exp(x)) - exact) / ulp);
    }
    CHECK(worst <= 2.0);
    CHECK(portable_exp(0.0f) == 1.0f);
    CHECK(portable_exp(-1000.0f) > 0.0f);  // clamped, never 0 or denormal
    CHECK(std::isfinite(portable_exp(1000.0f)));
}

TEST_CASE("surrogate: g matches its definition and the derivative of its primitive") {
    for (surrogate sg : {surrogate::sigmoid(4.0f), surrogate::sigmoid(1.0f), surrogate::atan(2.0f)}) {
        for (float x : {-2.0f, -0.3f, 0.0f, 0.125f, 1.0f, 5.0f}) {
            double expected;
            if (sg.kind == surrogate_kind::sigmoid) {
                const double s = 1.0 / (1.0 + std::exp(-double(sg.alpha) * x));
                expected = sg.alpha * s * (1.0 - s);
            } else {
                const double u = 1.5707963267948966 * sg.alpha * x;
                expected = sg.alpha / 2.0 / (1.0 + u * u);
            }
            CHECK(surrogate_grad(sg, x) == doctest::Approx(expected).epsilon(1e-6));
            const double h = 1e-6;
            const double numeric = (surrogate_primitive(sg, x + h) - surrogate_primitive(sg, x - h)) / (2 * h);
            CHECK(numeric == doctest::Approx(expected).epsilon(1e-6));
        }
    }
    // Peak values: sigmoid alpha/4 at 0, atan alpha/2 at 0.
    CHECK(surrogate_grad(surrogate::sigmoid(4.0f), 0.0f) == 1.0f);
    CHECK(surrogate_grad(surrogate::atan(2.0f), 0.0f) == 1.0f);
}
