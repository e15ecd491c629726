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
// The dense paths' chunks: one sgemm call per chunk, and each call packs the whole of its other operand
// (the weights, or x for dW), so chunks are long; they stay fixed, so results do not depend on the threads.
constexpr std::size_t gemm_chunk = 256;

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
    // wt is first repacked tile by tile, [tiles][in][tile] (the last tile zero-padded), so that one tile's
    // weights are contiguous: rows of wt lie a power-of-two stride apart, and gathered straight from wt the
    // active rows of a tile would compete for a few cache sets. Then per chunk of rows: the lists of active
    // inputs of every row, and the outputs tile by tile in `tile` register accumulators while the active
    // weight rows stream past (the tile's weights stay in cache across the chunk's rows). Each output still
    // sums its active inputs in ascending order, so the result equals the reference bit for bit.
    constexpr std::size_t tile = 64;
    typedef float v8 __attribute__((vector_size(32)));
    constexpr std::size_t vt = tile / 8;  // vectors per tile
    const std::size_t tiles = (out + tile - 1) / tile;
    std::vector<v8> packed(tiles * in * vt);
    parallel_for(tiles, 1, [&](std::size_t tb, std::size_t te) {
        for (std::size_t t = tb; t < te; ++t) {
            const std::size_t o0 = t * tile, width = std::min(tile, out - o0);
            for (std::size_t j = 0; j < in; ++j) {
                float* p = reinterpret_cast<float*>(packed.data() + (t * in + j) * vt);
                std::copy(wt + j * out + o0, wt + j * out + o0 + width, p);
                std::fill(p + width, p + tile, 0.0f);
            }
        }
    });
    return deterministic_reduce<std::uint64_t>(
        rows, row_chunk, 0,
        [&](std::size_t b, std::size_t e) {
            double events = 0.0;  // levels m / L * L may round below m in float: sum in double, round
            std::vector<std::uint32_t> active;
            std::vector<float> value;
            std::vector<std::size_t> start(e - b + 1, 0);
            std::vector<std::uint8_t> binary(e - b, 1);
            active.reserve((e - b) * in);
            value.reserve((e - b) * in);
            for (std::size_t r = b; r < e; ++r) {
                const float* xr = x + r * in;
                for (std::size_t j = 0; j < in; ++j)
                    if (xr[j] != 0.0f) {
                        active.push_back(static_cast<std::uint32_t>(j));
                        value.push_back(xr[j]);
                        binary[r - b] &= xr[j] == 1.0f ? 1 : 0;
                        events += double(xr[j]) * scale;
                    }
                start[r - b + 1] = active.size();
            }
            for (std::size_t t = 0; t < tiles; ++t) {
                const std::size_t o0 = t * tile, width = std::min(tile, out - o0);
                const v8* wtile = packed.data() + t * in * vt;
                for (std::size_t r = b; r < e; ++r) {
                    const std::uint32_t* act = active.data() + start[r - b];
                    const std::size_t n_act = start[r - b + 1] - start[r - b];
                    float* yr = y + r * out + o0;
                    if (binary[r - b]) {
                        // Eight 8-wide accumulators, spelled with GCC vector types so that they live in
                        // registers across the stream of active weight rows (padding lanes add zeros).
                        v8 a0{}, a1{}, a2{}, a3{}, a4{}, a5{}, a6{}, a7{};
                        for (std::size_t a = 0; a < n_act; ++a) {
                            const v8* w = wtile + std::size_t(act[a]) * vt;
                            a0 += w[0], a1 += w[1], a2 += w[2], a3 += w[3];
                            a4 += w[4], a5 += w[5], a6 += w[6], a7 += w[7];
                        }
                        const v8 all[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
                        std::memcpy(yr, all, width * sizeof(float));
                    } else {
                        const float* val = value.data() + start[r - b];
                        float acc[tile] = {};
                        for (std::size_t a = 0; a < n_act; ++a) {
                            const float* wj = reinterpret_cast<const float*>(wtile + std::size_t(act[a]) * vt);
                            const float v = val[a];
                            if (v == 1.0f)
                                for (std::size_t o = 0; o < width; ++o) acc[o] += wj[o];
                            else
                                for (std::size_t o = 0; o < width; ++o) acc[o] += v * wj[o];
                        }
                        std::copy(acc, acc + width, yr);
                    }
                }
            }
            return static_cast<std::uint64_t>(std::llround(events));
        },
        [](std::uint64_t a, std::uint64_t c) { return a + c; });
}

void linear_forward_dense(float* y, const float* x, const float* w, std::size_t rows, std::size_t in, std::size_t out) {
    single_threaded_blas();
    parallel_for((rows + gemm_chunk - 1) / gemm_chunk, 1, [&](std::size_t cb, std::size_t ce) {
        const std::size_t b = cb * gemm_chunk, e = std::min(rows, ce * gemm_chunk);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(e - b), static_cast<int>(out),
                    static_cast<int>(in), 1.0f, x + b * in, static_cast<int>(in), w, static_cast<int>(in), 0.0f,
                    y + b * out, static_cast<int>(out));
    });
}

void linear_backward_input(float* dx, const float* dy, const float* w, std::size_t rows, std::size_t in,
                           std::size_t out) {
    if (!dx) return;
    single_threaded_blas();
    parallel_for((rows + gemm_chunk - 1) / gemm_chunk, 1, [&](std::size_t cb, std::size_t ce) {
        const std::size_t b = cb * gemm_chunk, e = std::min(rows, ce * gemm_chunk);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(e - b), static_cast<int>(in),
                    static_cast<int>(out), 1.0f, dy + b * out, static_cast<int>(out), w, static_cast<int>(in), 0.0f,
                    dx + b * in, static_cast<int>(in));
    });
}

void linear_backward_weight_spikes(float* dw, const float* dy, const float* x, std::size_t rows, std::size_t in,
                                   std::size_t out) {
    // Column lists: for each input j, the rows where it spiked (ascending), built by one counting pass, and
    // whether all its values are 1 (binary spikes: no multiply).
    std::vector<std::size_t> start(in + 1, 0);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < in; ++j) start[j + 1] += x[r * in + j] != 0.0f ? 1 : 0;
    for (std::size_t j = 0; j < in; ++j) start[j + 1] += start[j];
    std::vector<std::uint32_t> active(start[in]);
    std::vector<std::uint8_t> binary(in, 1);
    {
        std::vector<std::size_t> fill(start.begin(), start.end() - 1);
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t j = 0; j < in; ++j) {
                const float v = x[r * in + j];
                if (v != 0.0f) {
                    active[fill[j]++] = static_cast<std::uint32_t>(r);
                    binary[j] &= v == 1.0f ? 1 : 0;
                }
            }
    }
    // Outputs in tiles of `tile` register accumulators, one tile per task: the task first copies dy's slice of
    // the tile into a contiguous buffer (dy's rows lie a power-of-two stride apart, and gathered in place
    // they would compete for a few cache sets), then gathers every input's rows from it, two inputs at a time
    // (eight independent sums). Each dw element still sums its rows in ascending order, as the reference does.
    constexpr std::size_t tile = 32;
    typedef float v8 __attribute__((vector_size(32)));
    constexpr std::size_t vt = tile / 8;
    const std::size_t tiles = (out + tile - 1) / tile;
    auto scatter = [&](const float* acc, std::size_t o0, std::size_t width, std::size_t j) {
        for (std::size_t o = 0; o < width; ++o) dw[(o0 + o) * in + j] += acc[o];
    };
    parallel_for(tiles, 1, [&](std::size_t tb, std::size_t te) {
        std::vector<v8> buf(rows * vt);
        for (std::size_t t = tb; t < te; ++t) {
            const std::size_t o0 = t * tile, width = std::min(tile, out - o0);
            for (std::size_t r = 0; r < rows; ++r) {
                float* p = reinterpret_cast<float*>(buf.data() + r * vt);
                std::copy(dy + r * out + o0, dy + r * out + o0 + width, p);
                std::fill(p + width, p + tile, 0.0f);
            }
            const v8* d = buf.data();
            float acc[tile];
            std::size_t j = 0;
            for (; j + 1 < in; j += 2) {
                if (!binary[j] || !binary[j + 1]) break;
                const std::uint32_t* la = active.data() + start[j];
                const std::uint32_t* lb = active.data() + start[j + 1];
                const std::size_t na = start[j + 1] - start[j], nb = start[j + 2] - start[j + 1];
                const std::size_t common = std::min(na, nb);
                v8 a0{}, a1{}, a2{}, a3{}, b0{}, b1{}, b2{}, b3{};
                std::size_t i = 0;
                for (; i < common; ++i) {
                    const v8* w = d + std::size_t(la[i]) * vt;
                    const v8* u = d + std::size_t(lb[i]) * vt;
                    a0 += w[0], a1 += w[1], a2 += w[2], a3 += w[3];
                    b0 += u[0], b1 += u[1], b2 += u[2], b3 += u[3];
                }
                for (std::size_t k = i; k < na; ++k) {
                    const v8* w = d + std::size_t(la[k]) * vt;
                    a0 += w[0], a1 += w[1], a2 += w[2], a3 += w[3];
                }
                for (std::size_t k = i; k < nb; ++k) {
                    const v8* u = d + std::size_t(lb[k]) * vt;
                    b0 += u[0], b1 += u[1], b2 += u[2], b3 += u[3];
                }
                const v8 sa[4] = {a0, a1, a2, a3}, sb[4] = {b0, b1, b2, b3};
                std::memcpy(acc, sa, sizeof acc);
                scatter(acc, o0, width, j);
                std::memcpy(acc, sb, sizeof acc);
                scatter(acc, o0, width, j + 1);
            }
            for (; j < in; ++j) {  // the rest: one input at a time, any values
                std::fill(acc, acc + tile, 0.0f);
                for (std::size_t a = start[j]; a < start[j + 1]; ++a) {
                    const std::size_t r = active[a];
                    const float v = x[r * in + j];
                    const float* dyr = reinterpret_cast<const float*>(d + r * vt);
                    if (v == 1.0f)
                        for (std::size_t o = 0; o < tile; ++o) acc[o] += dyr[o];
                    else
                        for (std::size_t o = 0; o < tile; ++o) acc[o] += v * dyr[o];
                }
                scatter(acc, o0, width, j);
            }
        }
    });
}

void linear_backward_weight_dense(float* dw, const float* dy, const float* x, std::size_t rows, std::size_t in,
                                  std::size_t out) {
    single_threaded_blas();
    // Split the output rows (o) over tasks: each dw element is one dot product over all rows.
    const std::size_t chunk = gemm_chunk;
    parallel_for((out + chunk - 1) / chunk, 1, [&](std::size_t cb, std::size_t ce) {
        const std::size_t b = cb * chunk, e = std::min(out, ce * chunk);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(e - b), static_cast<int>(in),
                    static_cast<int>(rows), 1.0f, dy + b, static_cast<int>(out), x, static_cast<int>(in), 1.0f,
                    dw + b * in, static_cast<int>(in));
    });
}

}  // namespace wtasim::cpu
