// The simulator's kernel bodies (sim/kernels.hpp) launched on the GPU, one thread per element; the bodies'
// pointers must be device pointers. Each call returns when its kernel is queued; synchronize() waits and
// reports a kernel's failure. Built only with CUDA.
#pragma once

#include <cstddef>

#include "sim/kernels.hpp"

namespace wtasim::cuda {

void launch(const sim_kernels::lif_population& body, std::size_t n);
void launch(const sim_kernels::nilif_population& body, std::size_t n);
void launch(const sim_kernels::spike_linear& body, std::size_t n);
void launch(const sim_kernels::row_event_count& body, std::size_t n);
void launch(const sim_kernels::coincidences& body, std::size_t n);
void launch(const sim_kernels::wta_select& body, std::size_t n);
void launch(const sim_kernels::copy_values& body, std::size_t n);
void launch(const sim_kernels::add& body, std::size_t n);
void launch(const sim_kernels::accumulate& body, std::size_t n);
void launch(const sim_kernels::token_shift& body, std::size_t n);
void launch(const sim_kernels::lm_head& body, std::size_t n);
void synchronize();

}  // namespace wtasim::cuda
