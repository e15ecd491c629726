// Kernel bodies and their launchers. A body is a small copyable functor whose
//     WTASIM_HOST_DEVICE void operator()(std::size_t i) const
// computes element i of a grid of n (one CUDA thread per element). The same body runs
//   - on the GPU through core/cuda/launch_body.cuh (`launch_body`, only in .cu files), and
//   - on the host through emulate_launch below, a loop over the grid, which is how CI machines without a GPU
//     test every kernel's logic on every commit (tests/sim/test_kernels.cpp).
// A body writes only its own element(s) and sums in a fixed order, so both give the same bits.
#pragma once

#include <cstddef>

namespace wtasim {

template <class Body>
void emulate_launch(std::size_t n, const Body& body) {
    for (std::size_t i = 0; i < n; ++i) body(i);
}

}  // namespace wtasim
