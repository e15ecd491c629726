// Fast attention: each (t, b, h) is one TBB task (heads own disjoint slices of every output, so no
// two tasks write the same float); scores are popcounts of bit-packed Q and K heads. The float work
// is the shared code of attention/head_kernels.hpp, so results equal the reference bit for bit.
#include <algorithm>
#include <bit>
#include <string>
#include <vector>
#if defined(__AVX__)
#include <immintrin.h>
#endif

#include "attention/attention.hpp"
#include "attention/head_kernels.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"

namespace wtasim::cpu {
namespace {
// Bit i set where f[i] == 1 (i < 8); `binary` cleared unless every f[i] is 0 or 1.
inline std::uint32_t spike_bits8(const float* f, bool& binary) {
#if defined(__AVX__)
    const __m256 v = _mm256_loadu_ps(f);
    const int one = _mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_set1_ps(1.0f), _CMP_EQ_OQ));
    const int zero = _mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_EQ_OQ));
    binary &= (one | zero) == 0xFF;
    return static_cast<std::uint32_t>(one);
#else
    std::uint32_t bits = 0;
    for (std::uint32_t i = 0; i < 8; ++i) {
        bits |= std::uint32_t{f[i] == 1.0f} << i;
        binary &= f[i] == 0.0f || f[i] == 1.0f;
    }
    return bits;
#endif
}

// One head's rows packed into 64-bit words: bit x of row n is channel x of that head.
struct packed_head {
    std::size_t words;
    std::vector<std::uint64_t> bits;

    packed_head(const float* src, const detail::head_view& hv) : words((hv.d->dh + 63) / 64) {
        const std::size_t N = hv.d->shape.N;
        bits.assign(N * words, 0);
        const std::size_t dh = hv.d->dh;
        bool binary = true;
        for (std::size_t n = 0; n < N; ++n) {
            const float* r = src + hv.offset(n);
            for (std::size_t w0 = 0; w0 < dh; w0 += 64) {
                const std::size_t len = std::min<std::size_t>(64, dh - w0);
                std::uint64_t word = 0;
                std::size_t x = 0;
                for (; x + 8 <= len; x += 8) word |= std::uint64_t{spike_bits8(r + w0 + x, binary)} << x;
                for (; x < len; ++x) {
                    const float f = r[w0 + x];
                    word |= std::uint64_t{f == 1.0f} << x;
                    binary &= (f == 0.0f) | (f == 1.0f);
                }
                bits[n * words + w0 / 64] = word;
            }
        }
        if (!binary)
            for (std::size_t n = 0; n < N; ++n)
                for (std::size_t x = 0; x < dh; ++x)
                    if (const float f = src[hv.offset(n) + x]; f != 0.0f && f != 1.0f)
                        throw internal_error("attention (cpu): Q/K must be binary spikes, found " + std::to_string(f));
    }
};

struct popcount_score {
    const packed_head& q;
    const packed_head& k;
    float operator()(std::size_t i, std::size_t j) const {
        int s = 0;
        for (std::size_t w = 0; w < q.words; ++w) s += std::popcount(q.bits[i * q.words + w] & k.bits[j * k.words + w]);
        return static_cast<float>(s);
    }
};

// Zeroes one head's slice of the three gradients (each head task owns its slice).
void clear_head(float* dq, float* dk, float* dv, const detail::head_view& hv) {
    for (std::size_t n = 0; n < hv.d->shape.N; ++n) {
        const std::size_t off = hv.offset(n);
        for (float* g : {dq, dk, dv}) std::fill(g + off, g + off + hv.d->dh, 0.0f);
    }
}

template <class F>
void parallel_heads(const attention_dims& d, F&& f) {
    const std::size_t heads = d.shape.T * d.shape.B * d.H;
    parallel_for(heads, 1, [&](std::size_t b, std::size_t e) {
        for (std::size_t x = b; x < e; ++x) {
            const std::size_t h = x % d.H, tb = x / d.H;
            f(detail::head_view{&d, tb / d.shape.B, tb % d.shape.B, h});
        }
    });
}
}  // namespace

void attention_forward(float* o, std::int32_t* winners, const float* q, const float* k, const float* v,
                       const attention_dims& d, const attention_config& cfg) {
    cfg.validate();
    parallel_heads(d, [&](const detail::head_view& hv) {
        const packed_head pq(q, hv), pk(k, hv);
        detail::head_forward(o, winners, v, hv, cfg, popcount_score{pq, pk});
    });
}

void attention_backward(float* dq, float* dk, float* dv, const float* d_o, const float* q, const float* k,
                        const float* v, const std::int32_t* winners, const attention_dims& d,
                        const attention_config& cfg) {
    cfg.validate();
    parallel_heads(d, [&](const detail::head_view& hv) {
        clear_head(dq, dk, dv, hv);
        const packed_head pq(q, hv), pk(k, hv);
        detail::head_backward(dq, dk, dv, d_o, q, k, v, winners, hv, cfg, popcount_score{pq, pk});
    });
}

void real_attention_forward(float* o, const float* q, const float* k, const float* v, const attention_dims& d,
                            const attention_config& cfg) {
    cfg.validate();
    if (cfg.kind != attention_kind::softmax) throw internal_error("real_attention_forward: only the softmax kind");
    parallel_heads(d, [&](const detail::head_view& hv) {
        detail::head_forward(o, nullptr, v, hv, cfg, detail::dot_score{q, k, hv});
    });
}

void real_attention_backward(float* dq, float* dk, float* dv, const float* d_o, const float* q, const float* k,
                             const float* v, const attention_dims& d, const attention_config& cfg) {
    cfg.validate();
    if (cfg.kind != attention_kind::softmax) throw internal_error("real_attention_backward: only the softmax kind");
    parallel_heads(d, [&](const detail::head_view& hv) {
        clear_head(dq, dk, dv, hv);
        detail::head_backward(dq, dk, dv, d_o, q, k, v, nullptr, hv, cfg, detail::dot_score{q, k, hv});
    });
}

}  // namespace wtasim::cpu
