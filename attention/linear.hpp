// Bias-free linear maps y = x W^T over rows (W is PyTorch's [out, in]), forward and backward, in two
// forms that the spiking block needs:
// - on spike input (values in {0, 1/D_lv, ..., 1}, mostly 0): y[r] = sum over active j of x[r, j] W[:, j],
//   accumulated in ascending j from the transposed weight Wt [in, out] — the order the event-driven
//   simulator uses, so trainer and simulator agree on every float;
// - on real input: a dense product (a BLAS sgemm in the cpu backend).
// Backward: dx = dy W; dW = dy^T x, accumulated over the active inputs only when x is spikes.
// Each kernel has a plain serial reference (namespace wtasim, sums in ascending index) and a cpu version
// with the same name and arguments (namespace cpu: TBB over fixed row chunks, so results do not depend
// on the thread count, with OpenBLAS held to one thread inside each chunk). The spike paths of the two
// are bit-identical; the dense (BLAS) paths agree within float rounding. The table that names them is
// linear_backend in attention/backend.hpp.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wtasim {

// Spike input: y [rows, out] = x [rows, in] W^T from wt = W^T [in, out], active inputs in ascending j.
// Returns the number of events, sum over active x of x * D_lv when `levels` > 1 (binary: count of 1s).
std::uint64_t linear_forward_spikes(float* y, const float* x, const float* wt, std::size_t rows, std::size_t in,
                                    std::size_t out, int levels = 1);
// Real input: y [rows, out] = x [rows, in] W^T with W [out, in].
void linear_forward_dense(float* y, const float* x, const float* w, std::size_t rows, std::size_t in, std::size_t out);
// dx [rows, in] = dy W (skipped when dx is null).
void linear_backward_input(float* dx, const float* dy, const float* w, std::size_t rows, std::size_t in,
                           std::size_t out);
// dw [out, in] += dy^T x, with x spikes: only active inputs contribute, rows in ascending order.
void linear_backward_weight_spikes(float* dw, const float* dy, const float* x, std::size_t rows, std::size_t in,
                                   std::size_t out);
// dw [out, in] += dy^T x, real x.
void linear_backward_weight_dense(float* dw, const float* dy, const float* x, std::size_t rows, std::size_t in,
                                  std::size_t out);

// wt [in, out] = w^T.
void transpose(float* wt, const float* w, std::size_t out, std::size_t in);

namespace cpu {
// Spike input, touching only the rows of wt for active inputs (wt repacked tile by tile, 64 outputs per tile in
// registers; active inputs found by vector compare).
std::uint64_t linear_forward_spikes(float* y, const float* x, const float* wt, std::size_t rows, std::size_t in,
                                    std::size_t out, int levels = 1);
// Real input by sgemm.
void linear_forward_dense(float* y, const float* x, const float* w, std::size_t rows, std::size_t in, std::size_t out);
// dx = dy W by sgemm (skipped when dx is null).
void linear_backward_input(float* dx, const float* dy, const float* w, std::size_t rows, std::size_t in,
                           std::size_t out);
// dw += dy^T x over active inputs, from per-input lists of the rows where it spiked.
void linear_backward_weight_spikes(float* dw, const float* dy, const float* x, std::size_t rows, std::size_t in,
                                   std::size_t out);
// dw += dy^T x by sgemm.
void linear_backward_weight_dense(float* dw, const float* dy, const float* x, std::size_t rows, std::size_t in,
                                  std::size_t out);
}  // namespace cpu

}  // namespace wtasim
