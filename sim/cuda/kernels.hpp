// The simulator's kernel bodies (sim/kernels.hpp) launched on the GPU, one thread per element; the bodies'
// pointers must be device pointers. Each call returns when its kernel is queued; synchronize() waits and
// reports a kernel's failure. Built only with CUDA.
#pragma once

#include <cstddef>

#include "sim/kernels.hpp"

namespace wtasim::cuda {

// Every body of sim/kernels.hpp (instantiated in sim/cuda/kernels.cu for each of them).
template <class Body>
void launch(const Body& body, std::size_t n);
void synchronize();

}  // namespace wtasim::cuda
