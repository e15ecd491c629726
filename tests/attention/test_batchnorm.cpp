// BatchNorm: masked statistics, backward against finite differences, folding into the linear weight.
// (Linear backends against the reference: tests/backends/.)
#include <doctest/doctest.h>

#include <cmath>

#include "attention/batchnorm.hpp"
#include "attention/linear.hpp"
#include "common/finite_difference.hpp"
#include "core/error.hpp"
#include "helpers.hpp"

using namespace wtasim;

namespace {
std::vector<float> normal(std::size_t n, std::uint64_t stream, float stddev = 1.0f) {
    std::vector<float> v(n);
    counter_rng(8).fill_normal(v.data(), n, stream, 0, 0.0f, stddev);
    return v;
}
}  // namespace

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

TEST_CASE("running-rms: the statistics before the batch normalise it; the mean square moves over real rows only") {
    // Channel 0 over real rows (1, 3, [100 padding]): mean square 5. Running mean square before: 4.
    const std::vector<float> x{1, 2, 3, -2, 100, 7};
    const std::vector<std::uint8_t> valid{1, 1, 0};
    const std::vector<float> gamma{2, 1}, beta{0.5f, 0};
    std::vector<float> y(6), rstd(2), ms{4, 0.25f};
    rmsnorm_forward_train(y.data(), rstd.data(), ms.data(), x.data(), gamma.data(), beta.data(), valid.data(), 3, 2);
    CHECK(rstd[0] == doctest::Approx(1.0 / std::sqrt(4.0 + 1e-5)));
    CHECK(y[0] == doctest::Approx(1.0 / std::sqrt(4.0 + 1e-5) * 2 + 0.5));
    CHECK(y[4] == doctest::Approx(100.0 / std::sqrt(4.0 + 1e-5) * 2 + 0.5));  // padding normalised too
    CHECK(y[3] == doctest::Approx(-2.0 / std::sqrt(0.25 + 1e-5)));
    CHECK(ms[0] == doctest::Approx(0.9 * 4 + 0.1 * 5.0));
    CHECK(ms[1] == doctest::Approx(0.9 * 0.25 + 0.1 * 4.0));  // (4 + 4) / 2, the padding 7 left out
    // the training forward is the evaluation forward with mean 0 and the old mean square, bit for bit
    const std::vector<float> zero(2, 0.0f), old{4, 0.25f};
    std::vector<float> eval(6);
    batchnorm_forward_eval(eval.data(), x.data(), gamma.data(), beta.data(), zero.data(), old.data(), 3, 2);
    CHECK(eval == y);
}

TEST_CASE("running-rms and none: the frozen-statistics backward equals finite differences") {
    const std::size_t rows = 8, C = 3;
    std::vector<std::uint8_t> valid(rows, 1);
    valid[7] = 0;
    const auto gamma = normal(C, 25), beta = normal(C, 26), w = normal(rows * C, 27);
    std::vector<float> ms = normal(C, 28);
    for (float& v : ms) v = 0.3f + v * v;
    std::vector<double> x(rows * C);
    counter_rng rng(29);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 2.0 * rng.normal(0, i) + 1.0;
    for (bool rms : {true, false}) {
        CAPTURE(rms);
        const std::vector<float> start = rms ? ms : std::vector<float>(C, 1.0f);
        auto forward = [&](const std::vector<float>& f, std::vector<float>& y, std::vector<float>& rstd) {
            std::vector<float> stat = start;
            if (rms) {
                rmsnorm_forward_train(y.data(), rstd.data(), stat.data(), f.data(), gamma.data(), beta.data(),
                                      valid.data(), rows, C);
            } else {
                const std::vector<float> zero(C, 0.0f);
                batchnorm_forward_eval(y.data(), f.data(), gamma.data(), beta.data(), zero.data(), stat.data(), rows,
                                       C);
                running_rstd(rstd.data(), stat.data(), C);
            }
        };
        auto loss = [&](const std::vector<double>& xs) {
            std::vector<float> f(xs.begin(), xs.end()), y(rows * C), rstd(C);
            forward(f, y, rstd);
            double l = 0;
            for (std::size_t i = 0; i < y.size(); ++i) l += double(y[i]) * w[i];
            return l;
        };
        const auto numeric = test::central_difference(x, 1e-2, loss);
        std::vector<float> f(x.begin(), x.end()), y(rows * C), rstd(C), dx(rows * C), dgamma(C, 0), dbeta(C, 0);
        forward(f, y, rstd);
        batchnorm_backward_frozen(dx.data(), dgamma.data(), dbeta.data(), w.data(), f.data(), nullptr, rstd.data(),
                                  gamma.data(), rows, C);
        double scale = 0;
        for (double v : numeric) scale = std::max(scale, std::abs(v));
        for (std::size_t i = 0; i < dx.size(); ++i) CHECK(std::abs(dx[i] - numeric[i]) <= 2e-3 * scale);
        for (std::size_t c = 0; c < C; ++c) {
            double g = 0, b = 0;
            for (std::size_t r = 0; r < rows; ++r) {
                g += w[r * C + c] * f[r * C + c] * rstd[c];
                b += w[r * C + c];
            }
            CHECK(dgamma[c] == doctest::Approx(g).epsilon(1e-5));
            CHECK(dbeta[c] == doctest::Approx(b).epsilon(1e-5));
        }
    }
}

TEST_CASE("norm names: batch, running-rms, none; anything else is refused by name") {
    for (norm_kind k : {norm_kind::batch, norm_kind::running_rms, norm_kind::none})
        CHECK(norm_kind_from_name(norm_kind_name(k)) == k);
    CHECK_THROWS_WITH_AS(norm_kind_from_name("layer"), doctest::Contains("norm \"layer\" is unknown"), config_error);
}
