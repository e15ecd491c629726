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

TEST_CASE("cuda kernels: coincidence and WTA-selection bodies on the GPU equal their emulation") {
    const std::size_t N = 64, H = 4, dh = 16, D = H * dh;
    std::vector<float> q(N * D), k(N * D), v(N * D);
    counter_rng rng(8);
    for (std::size_t i = 0; i < N * D; ++i) {
        q[i] = rng.uniform(0, i) < 0.2f ? 1.0f : 0.0f;
        k[i] = rng.uniform(1, i) < 0.2f ? 1.0f : 0.0f;
        v[i] = rng.uniform(2, i) < 0.3f ? 1.0f : 0.0f;
    }
    for (const int kw : {1, 2}) {
        std::vector<float> scores(H * N * N), o(N * D);
        std::vector<std::int32_t> winners(H * N * std::size_t(kw));
        auto dq = to_device(q), dk = to_device(k), dv = to_device(v), dscores = to_device(scores), dout = to_device(o);
        auto dwin = to_device(winners);
        emulate_launch(H * N * N, sim_kernels::coincidences{scores.data(), q.data(), k.data(), N, H, dh, true});
        cuda::launch(
            sim_kernels::coincidences{dscores.view().data(), dq.view().data(), dk.view().data(), N, H, dh, true},
            H * N * N);
        sim_kernels::wta_select host{o.data(), winners.data(), scores.data(), v.data(), N, H, dh, kw, true, true};
        host.bias[0] = 2.0f, host.bias[1] = 1.0f, host.bias_len = 2;
        sim_kernels::wta_select dev = host;
        dev.o = dout.view().data();
        dev.winners = dwin.view().data();
        dev.scores = dscores.view().data();
        dev.v = dv.view().data();
        emulate_launch(H * N, host);
        cuda::launch(dev, H * N);
        cuda::synchronize();
        CHECK(std::memcmp(to_host(dscores).data(), scores.data(), scores.size() * sizeof(float)) == 0);
        CHECK(to_host(dwin) == winners);
        CHECK(std::memcmp(to_host(dout).data(), o.data(), o.size() * sizeof(float)) == 0);
    }
}
