// Benchmark (not a test): the spiking block's forward+backward time against N for each attention kind,
// WSSA against SSA and softmax at equal size, beside the ANN twin block, as ratios from one run; and the
// spiking linear's event path against a BLAS sgemm at swept firing rates (is exploiting binary input
// faster?).
// Usage: bench_block [D=256] [H=8] [T=4] [repeats=3] [threads=0 (all)]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "attention/ann_block.hpp"
#include "attention/attention.hpp"
#include "attention/block.hpp"
#include "attention/linear.hpp"
#include "core/allocator.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "tools/bench_common.hpp"

using namespace wtasim;
using bench::best_seconds;

namespace {
std::vector<float> normal(std::size_t n, std::uint64_t stream, float mean) {
    std::vector<float> v(n);
    counter_rng(3).fill_normal(v.data(), n, stream, 0, mean, 1.0f);
    return v;
}
}  // namespace

int main(int argc, char** argv) {
    wtasim::keep_freed_memory();
    const std::size_t D = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 256;
    const std::size_t H = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 8;
    const std::size_t T = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 4;
    const int repeats = argc > 4 ? std::atoi(argv[4]) : 3;
    thread_limit limit(argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 0);
    const std::size_t F = 4 * D;

    std::printf(
        "spiking block forward+backward (training), D = %zu, H = %zu, F = %zu, T = %zu, B = 1, %zu thread(s), best of "
        "%d\n",
        D, H, F, T, max_threads(), repeats);
    std::printf("%6s %14s %14s %14s %14s %10s %10s %10s\n", "N", "wta k=1 ms", "ssa ms", "softmax ms", "ann ms",
                "ssa/wta", "smax/wta", "ann/wta");
    for (std::size_t N : {64u, 128u, 256u, 512u}) {
        const seq_shape s{T, 1, N};
        const auto x = normal(s.rows() * D, 0, 0.5f), dy = normal(s.rows() * D, 1, 0.0f);
        std::vector<float> y(x.size()), dx(x.size());
        double ms[3];
        int i = 0;
        for (attention_kind kind : {attention_kind::wta, attention_kind::ssa, attention_kind::softmax}) {
            block_config cfg;
            cfg.D = D;
            cfg.H = H;
            cfg.F = F;
            cfg.attn.kind = kind;
            cfg.attn.causal = true;
            spiking_block blk(cfg);
            blk.init(counter_rng(1), 0);
            for (auto& p : blk.parameters())
                if (p.name.ends_with(".bn.bias")) p.value->fill(0.5f);  // healthy firing rates
            ms[i++] = 1e3 * best_seconds(repeats, [&] {
                          blk.forward(y.data(), x.data(), s, {}, true);
                          blk.backward(dx.data(), dy.data());
                      });
        }
        ann_block ann(ann_block_config{D, H, F, true});
        ann.init(counter_rng(2), 0);
        const auto xa = normal(N * D, 2, 0.0f), dya = normal(N * D, 3, 0.0f);
        std::vector<float> ya(xa.size()), dxa(xa.size());
        const double ann_ms = 1e3 * best_seconds(repeats, [&] {
                                  ann.forward(ya.data(), xa.data(), 1, N, {});
                                  ann.backward(dxa.data(), dya.data());
                              });
        std::printf("%6zu %14.2f %14.2f %14.2f %14.2f %10.2f %10.2f %10.2f\n", N, ms[0], ms[1], ms[2], ann_ms,
                    ms[1] / ms[0], ms[2] / ms[0], ann_ms / ms[0]);
    }

    std::printf(
        "\nattention kernel alone (cpu backend, causal, spikes at 20%%), forward+backward, D = %zu, H = %zu, T = %zu\n",
        D, H, T);
    std::printf("%6s %14s %14s %14s %10s %10s\n", "N", "wta k=1 ms", "ssa ms", "softmax ms", "ssa/wta", "smax/wta");
    for (std::size_t N : {64u, 128u, 256u, 512u}) {
        const attention_dims d{seq_shape{T, 1, N}, H, D / H, nullptr};
        const std::size_t n = T * N * D;
        std::vector<float> q(n), k(n), v(n), o(n), dq(n), dk(n), dv(n);
        counter_rng rng(9);
        for (std::size_t i = 0; i < n; ++i) {
            q[i] = rng.uniform(0, i) < 0.2f ? 1.0f : 0.0f;
            k[i] = rng.uniform(1, i) < 0.2f ? 1.0f : 0.0f;
            v[i] = rng.uniform(2, i) < 0.2f ? 1.0f : 0.0f;
        }
        const auto d_o = normal(n, 7, 0.0f);
        std::vector<std::int32_t> w(T * H * N);
        double ms[3];
        int i = 0;
        for (attention_kind kind : {attention_kind::wta, attention_kind::ssa, attention_kind::softmax}) {
            attention_config cfg;
            cfg.kind = kind;
            cfg.causal = true;
            ms[i++] = 1e3 * best_seconds(repeats, [&] {
                          cpu::attention_forward(o.data(), w.data(), q.data(), k.data(), v.data(), d, cfg);
                          cpu::attention_backward(dq.data(), dk.data(), dv.data(), d_o.data(), q.data(), k.data(),
                                                  v.data(), w.data(), d, cfg);
                      });
        }
        std::printf("%6zu %14.2f %14.2f %14.2f %10.2f %10.2f\n", N, ms[0], ms[1], ms[2], ms[1] / ms[0], ms[2] / ms[0]);
    }

    // The spiking linear's two event kernels, forward y = x W^T and the weight gradient dW += dy^T x, each
    // against a BLAS sgemm on the same spikes, for the attention projections' shape (D -> D) and fc1's (D -> 4D).
    const std::size_t rows = T * 512;
    for (const std::size_t out : {D, 4 * D}) {
        std::printf("\nspiking linear, %zu rows x %zu -> %zu: event path vs BLAS sgemm on the same spikes (ms)\n", rows,
                    D, out);
        std::printf("%10s %12s %12s %10s %12s %12s %10s\n", "rate", "fwd events", "fwd sgemm", "ratio", "dW events",
                    "dW sgemm", "ratio");
        const auto w = normal(out * D, 4, 0.0f);
        const auto dy = normal(rows * out, 7, 0.0f);
        std::vector<float> wt(D * out), y(rows * out), dw(out * D);
        transpose(wt.data(), w.data(), out, D);
        for (float rate : {0.02f, 0.05f, 0.1f, 0.2f, 0.3f, 0.5f}) {
            std::vector<float> x(rows * D);
            counter_rng rng(5);
            for (std::size_t i = 0; i < x.size(); ++i) x[i] = rng.uniform(6, i) < rate ? 1.0f : 0.0f;
            const double ev = 1e3 * best_seconds(repeats * 3, [&] {
                                  cpu::linear_forward_spikes(y.data(), x.data(), wt.data(), rows, D, out);
                              });
            const double gemm = 1e3 * best_seconds(repeats * 3, [&] {
                                    cpu::linear_forward_dense(y.data(), x.data(), w.data(), rows, D, out);
                                });
            const double dw_ev = 1e3 * best_seconds(repeats * 3, [&] {
                                     cpu::linear_backward_weight_spikes(dw.data(), dy.data(), x.data(), rows, D, out);
                                 });
            const double dw_gemm = 1e3 * best_seconds(repeats * 3, [&] {
                                       cpu::linear_backward_weight_dense(dw.data(), dy.data(), x.data(), rows, D, out);
                                   });
            std::printf("%10.2f %12.3f %12.3f %10.2f %12.3f %12.3f %10.2f\n", double(rate), ev, gemm, gemm / ev, dw_ev,
                        dw_gemm, dw_gemm / dw_ev);
        }
    }
    return 0;
}
