// Serial reference linear maps (attention/linear.hpp): plain loops, inputs summed in ascending index.
#include "attention/linear.hpp"

namespace wtasim {

void linear_forward(float* y, const float* x, const float* w, std::size_t rows, std::size_t in, std::size_t out) {
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t o = 0; o < out; ++o) {
            float acc = 0.0f;
            for (std::size_t j = 0; j < in; ++j) acc += x[r * in + j] * w[o * in + j];
            y[r * out + o] = acc;
        }
}

void linear_backward(float* dx, float* dw, const float* dy, const float* x, const float* w, std::size_t rows,
                     std::size_t in, std::size_t out) {
    if (dx)
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t j = 0; j < in; ++j) {
                float acc = 0.0f;
                for (std::size_t o = 0; o < out; ++o) acc += dy[r * out + o] * w[o * in + j];
                dx[r * in + j] = acc;
            }
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
