// Serial reference linear maps (attention/linear.hpp): plain loops, sums in ascending index.
#include "attention/linear.hpp"

#include <cmath>

namespace wtasim {

std::uint64_t linear_forward_spikes(float* y, const float* x, const float* wt, std::size_t rows, std::size_t in,
                                    std::size_t out, int levels) {
    const auto scale = static_cast<float>(levels);
    std::uint64_t events = 0;
    for (std::size_t r = 0; r < rows; ++r) {
        float* yr = y + r * out;
        for (std::size_t o = 0; o < out; ++o) yr[o] = 0.0f;
        for (std::size_t j = 0; j < in; ++j) {
            const float v = x[r * in + j];
            if (v == 0.0f) continue;
            events += static_cast<std::uint64_t>(std::lround(v * scale));  // the level m of x = m / D_lv
            for (std::size_t o = 0; o < out; ++o) yr[o] += v * wt[j * out + o];
        }
    }
    return events;
}

void linear_forward_dense(float* y, const float* x, const float* w, std::size_t rows, std::size_t in, std::size_t out) {
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t o = 0; o < out; ++o) {
            float acc = 0.0f;
            for (std::size_t j = 0; j < in; ++j) acc += x[r * in + j] * w[o * in + j];
            y[r * out + o] = acc;
        }
}

void linear_backward_input(float* dx, const float* dy, const float* w, std::size_t rows, std::size_t in,
                           std::size_t out) {
    if (!dx) return;
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < in; ++j) {
            float acc = 0.0f;
            for (std::size_t o = 0; o < out; ++o) acc += dy[r * out + o] * w[o * in + j];
            dx[r * in + j] = acc;
        }
}

void linear_backward_weight_spikes(float* dw, const float* dy, const float* x, std::size_t rows, std::size_t in,
                                   std::size_t out) {
    for (std::size_t o = 0; o < out; ++o)
        for (std::size_t j = 0; j < in; ++j) {
            float acc = 0.0f;
            for (std::size_t r = 0; r < rows; ++r)
                if (x[r * in + j] != 0.0f) acc += x[r * in + j] * dy[r * out + o];
            dw[o * in + j] += acc;
        }
}

void linear_backward_weight_dense(float* dw, const float* dy, const float* x, std::size_t rows, std::size_t in,
                                  std::size_t out) {
    for (std::size_t o = 0; o < out; ++o)
        for (std::size_t j = 0; j < in; ++j) {
            float acc = 0.0f;
            for (std::size_t r = 0; r < rows; ++r) acc += dy[r * out + o] * x[r * in + j];
            dw[o * in + j] += acc;
        }
}

void transpose(float* wt, const float* w, std::size_t out, std::size_t in) {
    for (std::size_t o = 0; o < out; ++o)
        for (std::size_t j = 0; j < in; ++j) wt[j * out + o] = w[o * in + j];
}

}  // namespace wtasim
