// Benchmark (not a test): LIF forward+backward throughput in neuron-steps per second, beside the
// machine's copy bandwidth measured in the same run, printed as a ratio to the bandwidth bound.
// A neuron-step moves 28 bytes at least: forward reads x and writes s, h (12 B); backward reads
// ds, s, h and writes dx (16 B). Bound = copy bandwidth (bytes read + written per second) / 28 B.
// Usage: bench_neurons [neurons=2097152] [T=4] [repeats=5]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "neurons/backend.hpp"
#include "tools/bench_common.hpp"

using namespace wtasim;
using bench::best_seconds;

namespace {
// memcpy split over the allowed threads, in 1 MiB pieces.
double copy_bytes_per_s(std::vector<char>& dst, const std::vector<char>& src, int repeats) {
    const std::size_t piece = 1 << 20, pieces = src.size() / piece;
    const double s = best_seconds(repeats, [&] {
        parallel_for(pieces, 1, [&](std::size_t b, std::size_t e) {
            std::memcpy(dst.data() + b * piece, src.data() + b * piece, (e - b) * piece);
        });
    });
    return 2.0 * double(pieces * piece) / s;
}
}  // namespace

int main(int argc, char** argv) {
    const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : (std::size_t{1} << 21);
    const std::size_t T = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 4;
    const int repeats = argc > 3 ? std::atoi(argv[3]) : 5;
    const double bytes_per_step = 28.0;

    std::vector<float> x(T * n), ds(T * n), s(T * n), h(T * n), dx(T * n);
    counter_rng(1).fill_normal(x.data(), x.size(), 0, 0, 1.2f, 1.0f);
    counter_rng(1).fill_normal(ds.data(), ds.size(), 1, 0, 0.0f, 1.0f);
    std::vector<char> src(T * n * 3 * sizeof(float), 1), dst(src.size(), 0);
    const lif_params p;

    std::printf("LIF forward+backward, T = %zu, %zu neurons (%.1f MB of activations), best of %d\n", T, n,
                5.0 * double(T * n) * 4 / 1e6, repeats);
    std::printf("%-10s %7s %16s %14s %16s %9s\n", "backend", "threads", "neuron-steps/s", "copy GB/s", "bound steps/s",
                "ratio");
    for (std::size_t threads : {1u, 2u}) {
        thread_limit limit(threads);
        const double copy = copy_bytes_per_s(dst, src, repeats);
        const double bound = copy / bytes_per_step;
        for (const std::string& name : neuron_backend_names()) {
            // The reference is serial by definition; cuda uses no host threads (and its calls include the
            // host<->device copies of the host-pointer interface, so its ratio is to the host's bound).
            if (name != "cpu" && threads > 1) continue;
            const auto& b = neuron_backend_named(name);
            const double fwd =
                best_seconds(repeats, [&] { b.lif_forward(s.data(), h.data(), x.data(), T, n, p, nullptr, {}); });
            const double bwd = best_seconds(repeats, [&] {
                b.lif_backward(dx.data(), ds.data(), s.data(), h.data(), T, n, p, {}, nullptr, nullptr);
            });
            const double rate = double(T * n) / (fwd + bwd);
            std::printf("%-10s %7zu %16.3e %14.2f %16.3e %9.3f   (forward %.1f ms, backward %.1f ms)\n", name.c_str(),
                        threads, rate, copy / 1e9, bound, rate / bound, fwd * 1e3, bwd * 1e3);
        }
    }
    return 0;
}
