// The single-winner attention step (sim/winner_step.hpp).
#include "sim/winner_step.hpp"

#include <algorithm>
#include <bit>
#include <limits>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace wtasim::sim_detail {
namespace {

// bits [H, N, words]: token n's spikes on head h's channels; with the token shift each token also offers its
// predecessor's (an OR, as shift_events delivers an event to a second key slot, each channel once).
void pack(std::vector<std::uint64_t>& bits, const events& ev, std::size_t N, std::size_t H, std::size_t dh,
          std::size_t words, bool shift) {
    bits.assign(H * N * words, 0);
    for (std::size_t e = 0; e < ev.token.size(); ++e) {
        const std::size_t h = ev.neuron[e] / dh, x = ev.neuron[e] % dh;
        bits[(h * N + ev.token[e]) * words + x / 64] |= std::uint64_t{1} << (x % 64);
    }
    if (!shift) return;
    for (std::size_t h = 0; h < H; ++h)
        for (std::size_t n = N; n-- > 1;)
            for (std::size_t w = 0; w < words; ++w) bits[(h * N + n) * words + w] |= bits[(h * N + n - 1) * words + w];
}

std::uint32_t common(const std::uint64_t* a, const std::uint64_t* b, std::size_t words) {
    std::uint32_t n = 0;
    for (std::size_t w = 0; w < words; ++w) n += static_cast<std::uint32_t>(std::popcount(a[w] & b[w]));
    return n;
}

// The candidates j = j_end - 1 .. 0 of a causal query at distances without a recency bonus (each scores its
// raw coincidences): the first of the highest score in that order, and the sum of the scores. Integer
// arithmetic only; the caller takes the winner if its score beats the best of the nearer candidates, which
// is where the one-by-one scan (keep a candidate only if strictly higher) ends too.
struct far_best {
    std::uint32_t score;
    std::size_t j;
    std::uint64_t sum;
};
template <bool OneWord>
far_best far_candidates(const std::uint64_t* qi, const std::uint64_t* kh, std::size_t j_end, std::size_t words) {
    auto score = [&](std::size_t j) {
        if constexpr (OneWord) return static_cast<std::uint32_t>(std::popcount(qi[0] & kh[j]));
        return common(qi, kh + j * words, words);
    };
    far_best b{score(j_end - 1), j_end - 1, 0};
    b.sum = b.score;
    for (std::size_t j = j_end - 1; j-- > 0;) {
        const std::uint32_t raw = score(j);
        b.sum += raw;
        if (raw > b.score) b.score = raw, b.j = j;
    }
    return b;
}

// o[x] = 1 where bit x of the winner's words vj is set, else 0, for x < dh (all 0 without a winner); with
// AVX2 eight at a time: a byte of the words against the eight lanes' bits.
void spread_bits(float* o, const std::uint64_t* vj, std::size_t dh, bool wins) {
    std::size_t x = 0;
    if (!wins) {
        std::fill(o, o + dh, 0.0f);
        return;
    }
#if defined(__AVX2__)
    const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    const __m256 one = _mm256_set1_ps(1.0f);
    for (; x + 8 <= dh; x += 8) {  // x % 64 is a multiple of 8: the byte lies in one word
        const auto byte = static_cast<int>(vj[x / 64] >> (x % 64) & 0xff);
        const __m256i set = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(byte), bit), bit);
        _mm256_storeu_ps(o + x, _mm256_and_ps(_mm256_castsi256_ps(set), one));
    }
#endif
    for (; x < dh; ++x) o[x] = vj[x / 64] >> (x % 64) & 1 ? 1.0f : 0.0f;
}

}  // namespace

bool single_winner_applies(const model_config& cfg) {
    return cfg.block.attn.kind == attention_kind::wta && cfg.block.attn.k == 1;
}

op_counts single_winner_step(float* o, std::int32_t* winners, winner_scratch& s, const events& evq, const events& evk,
                             const events& evv, std::size_t N, const model_config& cfg) {
    const attention_config& ac = cfg.block.attn;
    const std::size_t D = cfg.D, H = cfg.H, dh = D / H, words = (dh + 63) / 64;
    pack(s.q, evq, N, H, dh, words, false);
    pack(s.k, evk, N, H, dh, words, ac.shift);
    pack(s.v, evv, N, H, dh, words, ac.shift);
    std::uint64_t coincidences = 0, bonuses = 0, candidates = 0, gathered = 0;
    for (std::size_t h = 0; h < H; ++h) {
        const std::uint64_t* qh = s.q.data() + h * N * words;
        const std::uint64_t* kh = s.k.data() + h * N * words;
        const std::uint64_t* vh = s.v.data() + h * N * words;
        for (std::size_t i = 0; i < N; ++i) {
            const std::uint64_t* qi = qh + i * words;
            float best = -std::numeric_limits<float>::infinity();
            std::size_t best_j = i;
            // candidate j at distance d: its score plus the recency bonus; kept only if strictly higher, so that
            // of equal scores the one met first (nearest, then earlier) wins
            auto visit = [&](std::size_t j, std::size_t d) {
                const std::uint32_t raw = common(qi, kh + j * words, words);
                const float bonus = ac.bias_at(d);
                const float c = static_cast<float>(raw) + bonus;
                coincidences += raw;
                bonuses += bonus > 0.0f ? 1 : 0;
                if (c > best) best = c, best_j = j;
            };
            if (ac.causal) {
                const std::size_t near = std::min(i + 1, ac.bias_len);  // distances 0 .. near - 1 have a bonus
                for (std::size_t d = 0; d < near; ++d) visit(i - d, d);
                if (near <= i) {
                    const far_best f = words == 1 ? far_candidates<true>(qi, kh, i + 1 - near, words)
                                                  : far_candidates<false>(qi, kh, i + 1 - near, words);
                    coincidences += f.sum;
                    if (static_cast<float>(f.score) > best) best = static_cast<float>(f.score), best_j = f.j;
                }
                candidates += i + 1;
            } else {
                visit(i, 0);
                for (std::size_t d = 1; d <= i || i + d < N; ++d) {
                    if (d <= i) visit(i - d, d);
                    if (i + d < N) visit(i + d, d);
                }
                candidates += N;
            }
            // a winner needs a coincidence (a positive raw score), or with `fill` a positive bonus
            const std::size_t d = best_j > i ? best_j - i : i - best_j;
            const bool wins = ac.fill ? best > 0.0f : best - ac.bias_at(d) > 0.0f;
            winners[h * N + i] = wins ? static_cast<std::int32_t>(best_j) : -1;
            float* oi = o + i * D + h * dh;
            const std::uint64_t* vj = vh + best_j * words;
            spread_bits(oi, vj, dh, wins);  // the winner's V (k = 1: the mean of one is itself)
            if (wins)
                for (std::size_t w = 0; w < words; ++w) gathered += static_cast<std::uint64_t>(std::popcount(vj[w]));
        }
    }
    op_counts ops;
    ops.add(op_class::ac, coincidences + bonuses + gathered);
    ops.add(op_class::cmp, candidates);
    return ops;
}

}  // namespace wtasim::sim_detail
