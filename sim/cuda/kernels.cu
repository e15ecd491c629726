// The simulator's kernel bodies on the GPU (sim/cuda/kernels.hpp). Compiled with --fmad=false and IEEE
// division like every CUDA file of the project, so each body's float operations round as on the host.
#include "sim/cuda/kernels.hpp"

#include "core/cuda/launch_body.cuh"

namespace wtasim::cuda {

template <class Body>
void launch(const Body& body, std::size_t n) {
    cuda_detail::launch_body(n, body);
}
template void launch(const sim_kernels::embed&, std::size_t);
template void launch(const sim_kernels::lif_population&, std::size_t);
template void launch(const sim_kernels::nilif_population&, std::size_t);
template void launch(const sim_kernels::spike_linear&, std::size_t);
template void launch(const sim_kernels::row_tally&, std::size_t);
template void launch(const sim_kernels::sum_groups&, std::size_t);
template void launch(const sim_kernels::coincidences&, std::size_t);
template void launch(const sim_kernels::attend&, std::size_t);
template void launch(const sim_kernels::fill_values&, std::size_t);
template void launch(const sim_kernels::copy_values&, std::size_t);
template void launch(const sim_kernels::add&, std::size_t);
template void launch(const sim_kernels::accumulate&, std::size_t);
template void launch(const sim_kernels::token_shift&, std::size_t);
template void launch(const sim_kernels::shift_last&, std::size_t);
template void launch(const sim_kernels::lm_head&, std::size_t);

void synchronize() {
    WTASIM_CUDA_CHECK(cudaDeviceSynchronize());
}

}  // namespace wtasim::cuda
