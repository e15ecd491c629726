// Fast linear maps (attention/linear.hpp). Rows are cut into fixed chunks, independent of the thread
// count, so every float comes out the same for 1 or 64 threads. Spike paths touch only active inputs;
// dense paths call OpenBLAS, held to one thread so that TBB alone decides the parallelism.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "attention/linear.hpp"
#include "core/parallel.hpp"

namespace wtasim::cpu {
namespace {
constexpr std::size_t row_chunk = 32;

void single_threaded_blas() {
    static const bool once = [] {
        openblas_set_num_threads(1);
        return true;
    }();
    (void)once;
}
}  // namespace

std::uint64_t linear_forward_spikes(float* y, const float* x, const float* wt, std::size_t rows, std::size_t in,
                                    std::size_t out, int levels) {
    const float scale = static_cast<float>(levels);
    // Per row: the list of active inputs, then the outputs in tiles of `tile` accumulators that stay in
    // registers while the active weight rows stream past. Each output still sums its active inputs in
    // ascending order, so the result equals the reference bit for bit.
    constexpr std::size_t tile = 64;
    return deterministic_reduce<std::uint64_t>(
        rows, row_chunk, 0,
        [&](std::size_t b, std::size_t e) {
            double events = 0.0;  // levels m / L * L may round below m in float: sum in double, round
            std::vector<std::uint32_t> active;
            std::vector<float> value;
            active.reserve(in);
            value.reserve(in);
            for (std::size_t r = b; r < e; ++r) {
                const float* xr = x + r * in;
                active.clear();
                value.clear();
                bool binary = true;
                for (std::size_t j = 0; j < in; ++j)
                    if (xr[j] != 0.0f) {
                        active.push_back(static_cast<std::uint32_t>(j));
                        value.push_back(xr[j]);
                        binary = binary && xr[j] == 1.0f;
                        events += double(xr[j]) * scale;
                    }
                float* yr = y + r * out;
                for (std::size_t o0 = 0; o0 < out; o0 += tile) {
                    const std::size_t width = std::min(tile, out - o0);
                    float acc[tile] = {};
                    if (width == tile && binary) {
                        // Eight 8-wide accumulators, spelled with GCC vector types so that they live in
                        // registers across the stream of active weight rows.
                        typedef float v8 __attribute__((vector_size(32)));
                        v8 a0{}, a1{}, a2{}, a3{}, a4{}, a5{}, a6{}, a7{};
                        for (std::uint32_t j : active) {
                            const float* wj = wt + j * out + o0;
                            v8 w[8];
                            std::memcpy(w, wj, sizeof w);
                            a0 += w[0], a1 += w[1], a2 += w[2], a3 += w[3];
                            a4 += w[4], a5 += w[5], a6 += w[6], a7 += w[7];
                        }
                        const v8 all[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
                        std::memcpy(acc, all, sizeof all);
                    } else {
                        for (std::size_t a = 0; a < active.size(); ++a) {
                            const float* wj = wt + active[a] * out + o0;
                            const float v = value[a];
                            if (v == 1.0f)
                                for (std::size_t o = 0; o < width; ++o) acc[o] += wj[o];
                            else
                                for (std::size_t o = 0; o < width; ++o) acc[o] += v * wj[o];
                        }
                    }
                    std::copy(acc, acc + width, yr + o0);
                }
            }
            return static_cast<std::uint64_t>(std::llround(events));
        },
        [](std::uint64_t a, std::uint64_t c) { return a + c; });
}

void linear_forward_dense(float* y, const float* x, const float* w, std::size_t rows, std::size_t in, std::size_t out) {
    single_threaded_blas();
    parallel_for((rows + row_chunk - 1) / row_chunk, 1, [&](std::size_t cb, std::size_t ce) {
        const std::size_t b = cb * row_chunk, e = std::min(rows, ce * row_chunk);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(e - b), static_cast<int>(out),
                    static_cast<int>(in), 1.0f, x + b * in, static_cast<int>(in), w, static_cast<int>(in), 0.0f,
                    y + b * out, static_cast<int>(out));
    });
}

void linear_backward_input(float* dx, const float* dy, const float* w, std::size_t rows, std::size_t in,
                           std::size_t out) {
    if (!dx) return;
    single_threaded_blas();
    parallel_for((rows + row_chunk - 1) / row_chunk, 1, [&](std::size_t cb, std::size_t ce) {
        const std::size_t b = cb * row_chunk, e = std::min(rows, ce * row_chunk);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(e - b), static_cast<int>(in),
                    static_cast<int>(out), 1.0f, dy + b * out, static_cast<int>(out), w, static_cast<int>(in), 0.0f,
                    dx + b * in, static_cast<int>(in));
    });
}

void linear_backward_weight_spikes(float* dw, const float* dy, const float* x, std::size_t rows, std::size_t in,
                                   std::size_t out) {
    // Column lists: for each input j, the rows where it spiked (ascending), built by one counting pass.
    std::vector<std::size_t> start(in + 1, 0);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < in; ++j) start[j + 1] += x[r * in + j] != 0.0f ? 1 : 0;
    for (std::size_t j = 0; j < in; ++j) start[j + 1] += start[j];
    std::vector<std::uint32_t> active(start[in]);
    std::vector<std::size_t> fill(start.begin(), start.end() - 1);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < in; ++j)
            if (x[r * in + j] != 0.0f) active[fill[j]++] = static_cast<std::uint32_t>(r);
    parallel_for(in, 8, [&](std::size_t jb, std::size_t je) {
        std::vector<float> acc(out);
        for (std::size_t j = jb; j < je; ++j) {
            std::fill(acc.begin(), acc.end(), 0.0f);
            for (std::size_t a = start[j]; a < start[j + 1]; ++a) {
                const std::size_t r = active[a];
                const float v = x[r * in + j];
                const float* dyr = dy + r * out;
                if (v == 1.0f)
                    for (std::size_t o = 0; o < out; ++o) acc[o] += dyr[o];
                else
                    for (std::size_t o = 0; o < out; ++o) acc[o] += v * dyr[o];
            }
            for (std::size_t o = 0; o < out; ++o) dw[o * in + j] += acc[o];
        }
    });
}

void linear_backward_weight_dense(float* dw, const float* dy, const float* x, std::size_t rows, std::size_t in,
                                  std::size_t out) {
    single_threaded_blas();
    // Split the output rows (o) over tasks: each dw element is one dot product over all rows.
    const std::size_t chunk = 16;
    parallel_for((out + chunk - 1) / chunk, 1, [&](std::size_t cb, std::size_t ce) {
        const std::size_t b = cb * chunk, e = std::min(out, ce * chunk);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(e - b), static_cast<int>(in),
                    static_cast<int>(rows), 1.0f, dy + b, static_cast<int>(out), x, static_cast<int>(in), 1.0f,
                    dw + b * in, static_cast<int>(in));
    });
}

}  // namespace wtasim::cpu
