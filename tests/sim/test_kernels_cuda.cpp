// The simulator's kernel bodies launched on a GPU (sim/cuda/kernels.hpp) against the same bodies emulated on
// the host, which tests/sim/test_kernels.cpp holds equal to the CPU engine: spikes, membranes, currents and
// event counts bit for bit. Label `cuda`: needs a GPU. Built only with CUDA.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/cuda/device_array.hpp"
#include "core/launch.hpp"
#include "sim/cuda/kernels.hpp"

using namespace wtasim;

namespace {

// A uniform draw in [0, 1) from (stream, index), header-only so that tools/device/ builds this test with no
// library of the project (the GPU machine has no TBB): splitmix64 of the pair.
float uniform01(std::uint64_t stream, std::uint64_t index) {
    std::uint64_t z = stream * 0x9e3779b97f4a7c15ull + index + 0x632be59bd9b4e019ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return float(z >> 40) / float(1ull << 24);
}

std::vector<float> draws(std::size_t n, std::uint64_t stream, float lo, float hi) {
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = lo + (hi - lo) * uniform01(stream, i);
    return x;
}

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
    const std::vector<float> x = draws(N * C, 0, -0.5f, 2.0f), wt = draws(C * out, 1, -0.5f, 0.5f),
                             bias = draws(out, 2, -0.1f, 0.1f);
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
        emulate_launch(N, sim_kernels::row_tally{counts.data(), nullptr, s.data(), C, 1.0f});
        cuda::launch(sim_kernels::row_tally{dcounts.view().data(), nullptr, ds.view().data(), C, 1.0f}, N);
        cuda::synchronize();
        CHECK(std::memcmp(to_host(ds).data(), s.data(), s.size() * sizeof(float)) == 0);
        CHECK(std::memcmp(to_host(dv).data(), v.data(), v.size() * sizeof(float)) == 0);
        CHECK(std::memcmp(to_host(dy).data(), y.data(), y.size() * sizeof(float)) == 0);
        CHECK(to_host(dcounts) == counts);
    }
}

TEST_CASE("cuda kernels: coincidence and attention bodies on the GPU equal their emulation") {
    const std::size_t B = 2, N = 64, H = 4, dh = 16, D = H * dh;
    std::vector<float> q(B * N * D), k(B * N * D), v(B * N * D);
    for (std::size_t i = 0; i < B * N * D; ++i) {
        q[i] = uniform01(10, i) < 0.2f ? 1.0f : 0.0f;
        k[i] = uniform01(11, i) < 0.2f ? 1.0f : 0.0f;
        v[i] = uniform01(12, i) < 0.3f ? 1.0f : 0.0f;
    }
    const sim_kernels::query_rows rows{B, N, N, 0, H, dh};
    for (const int kind : {sim_kernels::attend::wta, sim_kernels::attend::ssa, sim_kernels::attend::softmax})
        for (const int kw : {1, 2}) {
            CAPTURE(kind);
            CAPTURE(kw);
            std::vector<float> scores(B * H * N * N), o(B * N * D);
            std::vector<std::int32_t> winners(B * H * N * std::size_t(kw));
            std::vector<std::uint64_t> tally(B * H * N);
            auto dq = to_device(q), dk = to_device(k), dv = to_device(v), dscores = to_device(scores),
                 dout = to_device(o);
            auto dwin = to_device(winners);
            auto dtally = to_device(tally);
            emulate_launch(B * H * N * N, sim_kernels::coincidences{scores.data(), q.data(), k.data(), rows, true});
            cuda::launch(
                sim_kernels::coincidences{dscores.view().data(), dq.view().data(), dk.view().data(), rows, true},
                B * H * N * N);
            sim_kernels::attend host{o.data(), winners.data(), tally.data(), scores.data(), v.data(), rows};
            host.kind = kind;
            host.k = kw;
            host.fill = true;
            host.ssa_scale = 0.125f;
            host.bias[0] = 2.0f, host.bias[1] = 1.0f, host.bias_len = 2;
            sim_kernels::attend dev = host;
            dev.o = dout.view().data();
            dev.winners = dwin.view().data();
            dev.tally = dtally.view().data();
            dev.scores = dscores.view().data();
            dev.v = dv.view().data();
            emulate_launch(B * H * N, host);
            cuda::launch(dev, B * H * N);
            cuda::synchronize();
            CHECK(std::memcmp(to_host(dscores).data(), scores.data(), scores.size() * sizeof(float)) == 0);
            CHECK(to_host(dtally) == tally);
            if (kind == sim_kernels::attend::wta) CHECK(to_host(dwin) == winners);
            const std::vector<float> got = to_host(dout);
            if (kind == sim_kernels::attend::softmax) {  // expf: within an ulp or two, not the same bits
                float worst = 0.0f;
                for (std::size_t i = 0; i < o.size(); ++i) worst = std::max(worst, std::fabs(got[i] - o[i]));
                CHECK(worst <= 1e-5f);
            } else {
                CHECK(std::memcmp(got.data(), o.data(), o.size() * sizeof(float)) == 0);
            }
        }
}
