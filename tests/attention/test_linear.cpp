// Linear maps and BatchNorm: the spike path against the reference bit for bit, BLAS paths within
// float tolerance, backward against finite differences, masked statistics, folding.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "attention/batchnorm.hpp"
#include "attention/linear.hpp"
#include "common/finite_difference.hpp"
#include "core/parallel.hpp"
#include "helpers.hpp"

using namespace wtasim;

namespace {
std::vector<float> normal(std::size_t n, std::uint64_t stream, float stddev = 1.0f) {
    std::vector<float> v(n);
    counter_rng(8).fill_normal(v.data(), n, stream, 0, 0.0f, stddev);
    return v;
}
double max_abs(const std::vector<float>& v) {
    double m = 0;
    for (float x : v) m = std::max(m, double(std::abs(x)));
    return m;
}
}  // namespace

TEST_CASE("linear: the spike path equals the reference bit for bit (binary and NI-LIF levels), any threads") {
    const std::size_t rows = 77, in = 45, out = 100;  // out >= 64 and not a multiple of 64: full and partial tiles
    const auto w = normal(out * in, 0);
    std::vector<float> wt(in * out);
    transpose(wt.data(), w.data(), out, in);
    for (int levels : {1, 4}) {
        auto x = test::random_spikes(rows * in, 0.2f, 4, static_cast<std::uint64_t>(levels));
        if (levels == 4)  // NI-LIF levels 1/4, 1/2, 3/4 (and 1) spread over the inputs
            for (std::size_t i = 0; i < x.size(); ++i) x[i] *= 0.25f * static_cast<float>(1 + (i / 2) % 4);
        std::vector<float> ref(rows * out);
        linear_forward_dense(ref.data(), x.data(), w.data(), rows, in, out);
        double expected_events = 0;
        for (float v : x) expected_events += double(v) * levels;
        for (std::size_t threads : {1u, 2u}) {
            thread_limit limit(threads);
            std::vector<float> y(rows * out);
            const auto events = cpu::linear_forward_spikes(y.data(), x.data(), wt.data(), rows, in, out, levels);
            CHECK(std::memcmp(y.data(), ref.data(), y.size() * 4) == 0);
            CHECK(events == static_cast<std::uint64_t>(std::llround(expected_events)));
        }
        // dW over active inputs only equals the reference's sum over all rows
        const auto dy = normal(rows * out, 1);
        std::vector<float> dw_ref(out * in, 0.5f), dw(out * in, 0.5f), dx_ref(rows * in), dx(rows * in);
        linear_backward_input(dx_ref.data(), dy.data(), w.data(), rows, in, out);
        linear_backward_weight_dense(dw_ref.data(), dy.data(), x.data(), rows, in, out);
        cpu::linear_backward_weight_spikes(dw.data(), dy.data(), x.data(), rows, in, out);
        CHECK(std::memcmp(dw.data(), dw_ref.data(), dw.size() * 4) == 0);
        cpu::linear_backward_input(dx.data(), dy.data(), w.data(), rows, in, out);
        for (std::size_t i = 0; i < dx.size(); ++i) CHECK(std::abs(dx[i] - dx_ref[i]) <= 1e-5 * max_abs(dx_ref));
    }
}

TEST_CASE("linear: the BLAS paths agree with the reference within float rounding") {
    const std::size_t rows = 70, in = 50, out = 40;
    const auto x = normal(rows * in, 2), w = normal(out * in, 3), dy = normal(rows * out, 4);
    std::vector<float> ref(rows * out), y(rows * out), dw_ref(out * in, 0.0f), dw(out * in, 0.0f), dx(rows * in);
    linear_forward_dense(ref.data(), x.data(), w.data(), rows, in, out);
    cpu::linear_forward_dense(y.data(), x.data(), w.data(), rows, in, out);
    for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(std::abs(y[i] - ref[i]) <= 1e-5 * max_abs(ref));
    linear_backward_input(dx.data(), dy.data(), w.data(), rows, in, out);
    linear_backward_weight_dense(dw_ref.data(), dy.data(), x.data(), rows, in, out);
    cpu::linear_backward_weight_dense(dw.data(), dy.data(), x.data(), rows, in, out);
    for (std::size_t i = 0; i < dw.size(); ++i) REQUIRE(std::abs(dw[i] - dw_ref[i]) <= 1e-5 * max_abs(dw_ref));
    // thread-count independence of the BLAS paths (fixed chunking)
    std::vector<float> y1(rows * out), y2(rows * out);
    {
        thread_limit limit(1);
        cpu::linear_forward_dense(y1.data(), x.data(), w.data(), rows, in, out);
    }
    {
        thread_limit limit(2);
        cpu::linear_forward_dense(y2.data(), x.data(), w.data(), rows, in, out);
    }
    CHECK(std::memcmp(y1.data(), y2.data(), y1.size() * 4) == 0);
}

TEST_CASE("batchnorm: statistics over real rows only; padding rows normalised with them") {
    // Channel 0 over rows (1, 3, 5, [100 padding]): mean 3, biased var 8/3.
    const std::vector<float> x{1, 0, 3, 0, 5, 0, 100, 0};
    const std::vector<std::uint8_t> valid{1, 1, 1, 0};
    const std::vector<float> gamma{2, 1}, beta{0.5f, 0};
    std::vector<float> y(8), mean(2), rstd(2), rm{0, 0}, rv{1, 1};
    batchnorm_forward_train(y.data(), mean.data(), rstd.data(), rm.data(), rv.data(), x.data(), gamma.data(),
                            beta.data(), valid.data(), 4, 2);
    CHECK(mean[0] == doctest::Approx(3.0));
    CHECK(rstd[0] == doctest::Approx(1.0 / std::sqrt(8.0 / 3.0 + 1e-5)));
    CHECK(y[0] == doctest::Approx((1 - 3) / std::sqrt(8.0 / 3.0 + 1e-5) * 2 + 0.5));
    CHECK(y[6] == doctest::Approx((100 - 3) / std::sqrt(8.0 / 3.0 + 1e-5) * 2 + 0.5));  // padding row
    CHECK(rm[0] == doctest::Approx(0.3));
    CHECK(rv[0] == doctest::Approx(0.9 + 0.1 * 4.0));  // unbiased var = 8/2 = 4
    CHECK(y[1] == doctest::Approx(0.0));               // constant channel: x - mean = 0
}

TEST_CASE("batchnorm: backward equals finite differences, padding rows included") {
    const std::size_t rows = 9, C = 3;
    std::vector<std::uint8_t> valid(rows, 1);
    valid[7] = valid[8] = 0;
    const auto gamma = normal(C, 5), beta = normal(C, 6), w = normal(rows * C, 7);
    std::vector<double> x(rows * C);
    counter_rng rng(9);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 2.0 * rng.normal(0, i) + 1.0;
    auto loss = [&](const std::vector<double>& xs) {
        std::vector<float> f(xs.begin(), xs.end()), y(rows * C), mean(C), rstd(C), rm(C, 0), rv(C, 1);
        batchnorm_forward_train(y.data(), mean.data(), rstd.data(), rm.data(), rv.data(), f.data(), gamma.data(),
                                beta.data(), valid.data(), rows, C);
        double l = 0;
        for (std::size_t i = 0; i < y.size(); ++i) l += double(y[i]) * w[i];
        return l;
    };
    const auto numeric = test::central_difference(x, 1e-2, loss);
    std::vector<float> f(x.begin(), x.end()), y(rows * C), mean(C), rstd(C), rm(C, 0), rv(C, 1), dx(rows * C),
        dgamma(C, 0), dbeta(C, 0);
    batchnorm_forward_train(y.data(), mean.data(), rstd.data(), rm.data(), rv.data(), f.data(), gamma.data(),
                            beta.data(), valid.data(), rows, C);
    batchnorm_backward(dx.data(), dgamma.data(), dbeta.data(), w.data(), f.data(), mean.data(), rstd.data(),
                       gamma.data(), valid.data(), rows, C);
    double scale = 0;
    for (double v : numeric) scale = std::max(scale, std::abs(v));
    for (std::size_t i = 0; i < dx.size(); ++i) CHECK(std::abs(dx[i] - numeric[i]) <= 2e-3 * scale);
    // dgamma = sum dy xhat, dbeta = sum dy
    for (std::size_t c = 0; c < C; ++c) {
        double g = 0, b = 0;
        for (std::size_t r = 0; r < rows; ++r) {
            g += w[r * C + c] * (f[r * C + c] - mean[c]) * rstd[c];
            b += w[r * C + c];
        }
        CHECK(dgamma[c] == doctest::Approx(g).epsilon(1e-5));
        CHECK(dbeta[c] == doctest::Approx(b).epsilon(1e-5));
    }
}

TEST_CASE("batchnorm: eval mode equals the folded weight and bias") {
    const std::size_t rows = 20, in = 12, out = 7;
    const auto x = test::random_spikes(rows * in, 0.3f, 10, 0);
    const auto w = normal(out * in, 11), gamma = normal(out, 12), beta = normal(out, 13), rm = normal(out, 14);
    std::vector<float> rv = normal(out, 15);
    for (float& v : rv) v = 0.5f + v * v;
    std::vector<float> pre(rows * out), y(rows * out), wf(out * in), bias(out), folded(rows * out);
    linear_forward_dense(pre.data(), x.data(), w.data(), rows, in, out);
    batchnorm_forward_eval(y.data(), pre.data(), gamma.data(), beta.data(), rm.data(), rv.data(), rows, out);
    batchnorm_fold(wf.data(), bias.data(), w.data(), gamma.data(), beta.data(), rm.data(), rv.data(), out, in);
    linear_forward_dense(folded.data(), x.data(), wf.data(), rows, in, out);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t o = 0; o < out; ++o)
            CHECK(folded[r * out + o] + bias[o] == doctest::Approx(y[r * out + o]).epsilon(1e-5).scale(1.0));
}
