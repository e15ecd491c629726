// The simulator's CUDA backend (sim/cuda/backend.hpp): the kernel engine on the GPU's executor.
#include "sim/cuda/backend.hpp"

#include <cuda_runtime.h>

#include <algorithm>

#include "core/progress.hpp"
#include "sim/cuda/executor.hpp"
#include "sim/kernel_engine.hpp"
#include "sim/kernel_stream.hpp"

namespace wtasim::cuda {

std::string simulator_unavailable() {
    int n = 0;
    const cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess)
        return std::string("no GPU is usable here: ") + cudaGetErrorName(err) + ", " + cudaGetErrorString(err);
    if (n == 0) return "this build has CUDA but no GPU is visible";
    return "";
}

std::vector<sim_result> simulate_batch(const sim_network& net, const std::vector<std::vector<std::int32_t>>& sequences,
                                       bool record, bool membranes, progress* shown, std::size_t max_batch) {
    executor ex;
    kernel_simulator<executor> sim(ex, net);
    std::vector<sim_result> out;
    out.reserve(sequences.size());
    const std::size_t step = std::max<std::size_t>(1, max_batch);
    for (std::size_t b = 0; b < sequences.size(); b += step) {
        const std::vector<std::vector<std::int32_t>> part(
            sequences.begin() + static_cast<std::ptrdiff_t>(b),
            sequences.begin() + static_cast<std::ptrdiff_t>(std::min(sequences.size(), b + step)));
        std::size_t tokens = 0;
        for (const auto& s : part) tokens += s.size();
        for (auto& r : sim.run(part, record, membranes)) out.push_back(std::move(r));
        if (shown) shown->add(part.size(), tokens);
    }
    return out;
}

namespace {
struct device_decoder final : kernel_decoder {
    executor ex;
    kernel_stream<executor> stream;
    explicit device_decoder(const sim_network& net) : stream(ex, net) {}
    std::vector<float> push(std::int32_t token, op_counts* ops) override { return stream.push(token, ops); }
};
}  // namespace

std::unique_ptr<kernel_decoder> make_stream(const sim_network& net) {
    return std::make_unique<device_decoder>(net);
}

}  // namespace wtasim::cuda
