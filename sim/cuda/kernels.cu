// The simulator's kernel bodies on the GPU (sim/cuda/kernels.hpp). Compiled with --fmad=false and IEEE
// division like every CUDA file of the project, so each body's float operations round as on the host.
#include "sim/cuda/kernels.hpp"

#include "core/cuda/launch_body.cuh"

namespace wtasim::cuda {

void launch(const sim_kernels::lif_population& body, std::size_t n) {
    cuda_detail::launch_body(n, body);
}
void launch(const sim_kernels::nilif_population& body, std::size_t n) {
    cuda_detail::launch_body(n, body);
}
void launch(const sim_kernels::spike_linear& body, std::size_t n) {
    cuda_detail::launch_body(n, body);
}
void launch(const sim_kernels::row_event_count& body, std::size_t n) {
    cuda_detail::launch_body(n, body);
}
void launch(const sim_kernels::coincidences& body, std::size_t n) {
    cuda_detail::launch_body(n, body);
}
void launch(const sim_kernels::wta_select& body, std::size_t n) {
    cuda_detail::launch_body(n, body);
}
void launch(const sim_kernels::copy_values& body, std::size_t n) {
    cuda_detail::launch_body(n, body);
}
void launch(const sim_kernels::add& body, std::size_t n) {
    cuda_detail::launch_body(n, body);
}
void launch(const sim_kernels::accumulate& body, std::size_t n) {
    cuda_detail::launch_body(n, body);
}
void launch(const sim_kernels::token_shift& body, std::size_t n) {
    cuda_detail::launch_body(n, body);
}
void launch(const sim_kernels::lm_head& body, std::size_t n) {
    cuda_detail::launch_body(n, body);
}
void synchronize() {
    WTASIM_CUDA_CHECK(cudaDeviceSynchronize());
}

}  // namespace wtasim::cuda
