// Fast linear maps (attention/linear.hpp). Rows are cut into fixed chunks, independent of the thread
// count, so every float comes out the same for 1 or 64 threads. Spike paths touch only active inputs;
// dense paths call OpenBLAS, held to one thread so that TBB alone decides the parallelism.
#include <cblas.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>
#if defined(__AVX__)
#include <immintrin.h>
#endif

#include "attention/linear.hpp"
#include "core/lanes.hpp"
#include "core/parallel.hpp"

namespace wtasim::cpu {
namespace {
constexpr std::size_t row_chunk = 32;
// The dense paths' chunks: one sgemm call per chunk, and each call packs the whole of its other operand
// (the weights, or x for dW), so chunks are long; they stay fixed, so results do not depend on the threads.
constexpr std::size_t gemm_chunk = 256;

// The positions j < n where x[j] != 0, ascending, into out (room for n); returns how many. `binary` is
// cleared if one of them is not 1. Eight at a time by a vector compare, so the cost follows the nonzeros.
std::size_t nonzeros(const float* x, std::size_t n, std::uint32_t* out, bool& binary) {
    std::size_t k = 0, j = 0;
#if defined(__AVX2__)
    // the set lanes of each mask widened, offset by j and stored whole (8 slots written, popcount kept), so
    // that no branch depends on the spikes
    const auto& lanes = set_lanes();
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
    for (; j + 8 <= n; j += 8) {
        const __m256 v = _mm256_loadu_ps(x + j);
        const auto nz = static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_NEQ_UQ)));  // NaN: != 0
        const auto ones = static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(v, one, _CMP_EQ_OQ)));
        if ((nz & ~ones) != 0) binary = false;
        const __m256i idx = _mm256_add_epi32(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(lanes[nz]))),
                                             _mm256_set1_epi32(static_cast<int>(j)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + k), idx);
        k += static_cast<std::size_t>(std::popcount(nz));
    }
#endif
    for (; j < n; ++j)
        if (x[j] != 0.0f) {
            out[k++] = static_cast<std::uint32_t>(j);
            if (x[j] != 1.0f) binary = false;
        }
    return k;
}

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
            // not value-initialised: filled before being read (value: on rows that are not binary only)
            std::unique_ptr<std::uint32_t[]> active(new std::uint32_t[(e - b) * in]);
            std::unique_ptr<float[]> value(new float[(e - b) * in]);
            std::vector<std::size_t> start(e - b + 1, 0);
            std::vector<std::uint8_t> binary(e - b, 1);
            for (std::size_t r = b; r < e; ++r) {
                const float* xr = x + r * in;
                const std::size_t at = start[r - b];
                bool bin = true;
                const std::size_t k = nonzeros(xr, in, active.get() + at, bin);
                start[r - b + 1] = at + k;
                binary[r - b] = bin ? 1 : 0;
                if (bin) {
                    events += double(k) * scale;  // k values of 1: the same sum, exactly
                } else {
                    for (std::size_t a = at; a < at + k; ++a) {
                        value[a] = xr[active[a]];
                        events += double(value[a]) * scale;
                    }
                }
            }
            for (std::size_t t = 0; t < tiles; ++t) {
                const std::size_t o0 = t * tile, width = std::min(tile, out - o0);
                const v8* wtile = packed.data() + t * in * vt;
                for (std::size_t r = b; r < e; ++r) {
                    const std::uint32_t* act = active.get() + start[r - b];
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
                        const float* val = value.get() + start[r - b];
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
    // Column lists: for each input j, the rows where it spiked (ascending), from the rows' lists of active
    // inputs (work in proportion to the spikes), and whether every value is 1 (binary spikes: no multiply).
    bool all_binary = true;
    std::unique_ptr<std::uint32_t[]> by_row(new std::uint32_t[rows * in]);  // row r's list at r * in
    std::vector<std::size_t> row_count(rows), start(in + 1, 0);
    for (std::size_t r = 0; r < rows; ++r) {
        row_count[r] = nonzeros(x + r * in, in, by_row.get() + r * in, all_binary);
        for (std::size_t a = 0; a < row_count[r]; ++a) ++start[by_row[r * in + a] + 1];
    }
    for (std::size_t j = 0; j < in; ++j) start[j + 1] += start[j];
    std::vector<std::uint32_t> active(start[in]);
    {
        std::vector<std::size_t> fill(start.begin(), start.end() - 1);
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t a = 0; a < row_count[r]; ++a)
                active[fill[by_row[r * in + a]]++] = static_cast<std::uint32_t>(r);
    }
    // Outputs in tiles of `tile` register accumulators, one tile per task: the task first copies dy's slice of
    // the tile into a contiguous buffer (dy's rows lie a power-of-two stride apart, and gathered in place
    // they would compete for a few cache sets), then gathers every input's rows from it into four vector
    // sums (a scalar loop when some value is not 1). Each dw element still sums its rows in ascending order,
    // as the reference does.
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
            for (std::size_t j = 0; j < in; ++j) {
                if (all_binary) {
                    v8 a0{}, a1{}, a2{}, a3{};
                    for (std::size_t a = start[j]; a < start[j + 1]; ++a) {
                        const v8* w = d + std::size_t(active[a]) * vt;
                        a0 += w[0], a1 += w[1], a2 += w[2], a3 += w[3];
                    }
                    const v8 sa[4] = {a0, a1, a2, a3};
                    std::memcpy(acc, sa, sizeof acc);
                } else {  // values other than 1 (NI-LIF levels)
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
