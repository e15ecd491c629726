// The simulator's kernel bodies launched on a GPU (sim/cuda/kernels.hpp) against the same bodies emulated on
// the host, which tests/sim/test_kernels.cpp holds equal to the CPU engine: spikes, membranes, currents and
// event counts bit for bit. Label `cuda`: needs a GPU. Built only with CUDA.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "core/cuda/device_array.hpp"
#include "core/launch.hpp"
#include "core/rng.hpp"
#include "sim/cuda/kernels.hpp"

using namespace wtasim;

namespace {

template <class T>
std::vector<T> to_host(const cuda::device_array<T>& d) {
    std::vector<T> h(d.size());
    d.copy_to_host(host_view<T>(h.data(), h.size()));
    return h;
}

template <class T>
cuda::device_array<T> to_device(const std::vector<T>& h) {
    return cuda::device_array<T>(host_view<const T>(h.data(), h.size()));
}

}  // namespace

TEST_CASE("cuda kernels: population, spiking-linear and event-count bodies on the GPU equal their emulation") {
    const std::size_t N = 33, C = 300, out = 70;
    std::vector<float> x(N * C), wt(C * out), bias(out);
    counter_rng(3).fill_normal(x.data(), x.size(), 0, 0, 0.8f, 1.0f);
    counter_rng(3).fill_normal(wt.data(), wt.size(), 1, 0, 0.0f, 0.3f);
    counter_rng(3).fill_normal(bias.data(), bias.size(), 2, 0, 0.0f, 0.1f);
    lif_params lif;
    lif.tau = 2.0f;
    std::vector<float> v(N * C, 0.0f), s(N * C, 0.0f), y(N * out, 0.0f);
    std::vector<std::uint64_t> counts(N, 0);

    auto dv = to_device(v), ds = to_device(s), dx = to_device(x), dwt = to_device(wt), dbias = to_device(bias),
         dy = to_device(y);
    auto dcounts = to_device(counts);
    for (int t = 0; t < 3; ++t) {
        emulate_launch(N * C, sim_kernels::lif_population{v.data(), s.data(), x.data(), lif_coeffs_of(lif)});
        cuda::launch(
            sim_kernels::lif_population{dv.view().data(), ds.view().data(), dx.view().data(), lif_coeffs_of(lif)},
            N * C);
        emulate_launch(N * out, sim_kernels::spike_linear{y.data(), s.data(), wt.data(), bias.data(), C, out});
        cuda::launch(sim_kernels::spike_linear{dy.view().data(), ds.view().data(), dwt.view().data(),
                                               dbias.view().data(), C, out},
                     N * out);
        emulate_launch(N, sim_kernels::row_event_count{counts.data(), s.data(), C, 1.0f});
        cuda::launch(sim_kernels::row_event_count{dcounts.view().data(), ds.view().data(), C, 1.0f}, N);
        cuda::synchronize();
        CHECK(std::memcmp(to_host(ds).data(), s.data(), s.size() * sizeof(float)) == 0);
        CHECK(std::memcmp(to_host(dv).data(), v.data(), v.size() * sizeof(float)) == 0);
        CHECK(std::memcmp(to_host(dy).data(), y.data(), y.size() * sizeof(float)) == 0);
        CHECK(to_host(dcounts) == counts);
    }
}
