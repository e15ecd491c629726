// The cpu backend's engine (sim/layer_major.hpp): a group of sequences runs layer by layer, each layer over
// all T steps of every sequence of the group, so that a spiking linear (and at the end the head) runs over
// the group's T x N rows in one pass: a weight row, once read, serves the later events on it from the core's
// cache, where the step-major reference reads the weights again in every step of every sequence.
// Each output's float operations and their order stay those of the reference (engine.cpp):
//   - a linear's output row: zero, its events in neuron order, then the bias;
//   - the head's row of a token: the steps in order, each step's events in neuron order;
//   - everything else (neuron steps, attention, residual adds) per segment (one step of one sequence), in
//     step order within a sequence, as the reference calls it; WTA with k = 1 by sim/winner_step.hpp's scan
//     of bit-packed spikes, which finds the reference's winners and counts without its score matrix.
// So spikes, counts, winners and logits are bit-identical to the reference (tests/sim/test_equivalence.cpp).
#include "sim/layer_major.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>

#include "core/parallel.hpp"
#include "core/progress.hpp"
#include "sim/sequence_state.hpp"
#include "sim/winner_step.hpp"

namespace wtasim::sim_detail {
namespace {

// The events one output row receives from one segment: a token's run of an event list.
struct event_span {
    const std::uint32_t* neuron;
    const float* value;
    std::uint32_t count;
};

// Rows (tokens x steps) per group: enough that each weight row, once read, serves many event rows from the
// core's cache, few enough that a layer's activations ([rows, F] floats) stay within the last-level cache.
// 256 or 2048 rows measured 1.12x and 1.04x slower on the D 256 model (docs/simulator.md).
constexpr std::size_t group_rows = 1024;

typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4)));  // a weight vector, loaded unaligned

// The sums of output rows from the events of spans[r per .. r per + per) (per = 1: a linear's row; per = T: the
// head's row of a token, its steps in order), plus the bias when there is one: each output sums, from 0, its
// events in order and then the bias, as the reference's row adds do. Tile by tile (net.tiles' layout,
// sim/network.hpp): a row's 64 outputs stay in eight vector registers while its events' weight vectors
// stream past, so an event costs eight loads and eight adds, and the tile's weights stay in cache over the
// group's rows. The rows come in the order order[0 .. R) (null: 0 .. R - 1); the i-th row r of a tile goes to
// sink(i, r, t, width, a0 .. a7). Ones: binary events, whose 1 x w is w (no multiply).
template <bool Ones, class Sink>
void tile_sums(const event_span* spans, std::size_t R, std::size_t per, const float* tiles, std::size_t in,
               std::size_t out, const float* bias, const std::uint32_t* order, Sink&& sink) {
    static_assert(weight_tile == 64, "eight accumulators of eight floats");
    const std::size_t n_tiles = (out + weight_tile - 1) / weight_tile;
    for (std::size_t t = 0; t < n_tiles; ++t) {
        const std::size_t o0 = t * weight_tile, width = std::min(weight_tile, out - o0);
        const float* wt = tiles + t * in * weight_tile;
        float bt[weight_tile] = {};
        if (bias) std::copy(bias + o0, bias + o0 + width, bt);
        const v8u* bv = reinterpret_cast<const v8u*>(bt);
        for (std::size_t i = 0; i < R; ++i) {
            const std::size_t r = order ? order[i] : i;
            v8 a0{}, a1{}, a2{}, a3{}, a4{}, a5{}, a6{}, a7{};
            for (std::size_t s = r * per; s < (r + 1) * per; ++s) {
                const event_span& sp = spans[s];
                for (std::uint32_t e = 0; e < sp.count; ++e) {
                    const v8u* w = reinterpret_cast<const v8u*>(wt + std::size_t{sp.neuron[e]} * weight_tile);
                    if constexpr (Ones) {
                        a0 += w[0], a1 += w[1], a2 += w[2], a3 += w[3];
                        a4 += w[4], a5 += w[5], a6 += w[6], a7 += w[7];
                    } else {
                        const v8 v = v8{} + sp.value[e];
                        a0 += v * w[0], a1 += v * w[1], a2 += v * w[2], a3 += v * w[3];
                        a4 += v * w[4], a5 += v * w[5], a6 += v * w[6], a7 += v * w[7];
                    }
                }
            }
            if (bias) {
                a0 += bv[0], a1 += bv[1], a2 += bv[2], a3 += bv[3];
                a4 += bv[4], a5 += bv[5], a6 += bv[6], a7 += bv[7];
            }
            sink(i, r, t, width, a0, a1, a2, a3, a4, a5, a6, a7);
        }
    }
}

// A tile's first `width` sums to y: eight vector stores for a whole tile (a memcpy of 256 bytes would be a call).
inline void store_tile(float* y, std::size_t width, v8 a0, v8 a1, v8 a2, v8 a3, v8 a4, v8 a5, v8 a6, v8 a7) {
    if (width == weight_tile) {
        v8u* yv = reinterpret_cast<v8u*>(y);
        yv[0] = a0, yv[1] = a1, yv[2] = a2, yv[3] = a3;
        yv[4] = a4, yv[5] = a5, yv[6] = a6, yv[7] = a7;
    } else {
        const v8 all[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
        std::memcpy(y, all, width * sizeof(float));
    }
}

// Output rows y [R, out]: tile_sums stored.
template <bool Ones>
void tile_rows(float* y, const event_span* spans, std::size_t R, std::size_t per, const float* tiles, std::size_t in,
               std::size_t out, const float* bias) {
    tile_sums<Ones>(
        spans, R, per, tiles, in, out, bias, nullptr,
        [&](std::size_t, std::size_t r, std::size_t t, std::size_t width, v8 a0, v8 a1, v8 a2, v8 a3, v8 a4, v8 a5,
            v8 a6, v8 a7) { store_tile(y + r * out + t * weight_tile, width, a0, a1, a2, a3, a4, a5, a6, a7); });
}
void tile_rows(float* y, const event_span* spans, std::size_t R, std::size_t per, const float* tiles, std::size_t in,
               std::size_t out, const float* bias, bool binary) {
    if (binary) return tile_rows<true>(y, spans, R, per, tiles, in, out, bias);
    tile_rows<false>(y, spans, R, per, tiles, in, out, bias);
}

#if defined(__AVX2__)
// The LIF population that a linear's rows feed (out a multiple of 64), stepped on each row's tile of 64 inputs
// at once with lif_pow2_lanes, the floats of stepping it on those inputs stored. The rows come token by token
// (each token's T rows in step order: i % T == 0 starts a token), so a token's 64 membranes of a tile live in
// v (256 bytes, which stay in L1) for its T steps, from the population's initial value: a membrane lives T
// steps of one token, so the population needs no state array, and its inputs never reach memory. The fired
// lanes go to fired[r * out / 64 + t].
struct tile_lif {
    lif_pow2_lanes lanes;
    float v0;
    std::size_t T, n_tiles;
    std::uint64_t* fired;
    alignas(32) float v[weight_tile];
    tile_lif(const lif_coeffs& c, std::size_t T_, std::size_t out, std::uint64_t* fired_)
        : lanes(c), v0(c.v_reset), T(T_), n_tiles(out / weight_tile), fired(fired_) {}
    void operator()(std::size_t i, std::size_t r, std::size_t t, v8 a0, v8 a1, v8 a2, v8 a3, v8 a4, v8 a5, v8 a6,
                    v8 a7) {
        if (i % T == 0) std::fill(v, v + weight_tile, v0);
        const std::uint64_t m0 = lanes(v, a0, nullptr), m1 = lanes(v + 8, a1, nullptr), m2 = lanes(v + 16, a2, nullptr),
                            m3 = lanes(v + 24, a3, nullptr), m4 = lanes(v + 32, a4, nullptr),
                            m5 = lanes(v + 40, a5, nullptr), m6 = lanes(v + 48, a6, nullptr),
                            m7 = lanes(v + 56, a7, nullptr);
        fired[r * n_tiles + t] = m0 | m1 << 8 | m2 << 16 | m3 << 24 | m4 << 32 | m5 << 40 | m6 << 48 | m7 << 56;
    }
};

// A linear's rows (out a multiple of 64) straight into the LIF population that they feed (tile_lif), so the
// currents never reach memory; order: the rows token by token.
void tile_rows_lif(const event_span* spans, std::size_t R, const folded_linear& f, bool binary,
                   const std::uint32_t* order, std::size_t T, const lif_coeffs& c, std::uint64_t* fired) {
    tile_lif lif(c, T, f.out, fired);
    auto sink = [&](std::size_t i, std::size_t r, std::size_t t, std::size_t, v8 a0, v8 a1, v8 a2, v8 a3, v8 a4, v8 a5,
                    v8 a6, v8 a7) { lif(i, r, t, a0, a1, a2, a3, a4, a5, a6, a7); };
    if (binary)
        tile_sums<true>(spans, R, 1, f.tiles.data(), f.in, f.out, f.bias.data(), order, sink);
    else
        tile_sums<false>(spans, R, 1, f.tiles.data(), f.in, f.out, f.bias.data(), order, sink);
}
#endif

// A residual add on a linear's rows: y [R, out] = base + the rows (tile_sums; the floats of storing the rows
// and adding them to base after, without the store). With c (AVX2 builds only, out a multiple of 64: the
// caller's fusable(); order: the rows token by token), the LIF population that y feeds steps on each tile at
// once as well (tile_lif), its fired lanes to fired.
template <bool Ones>
void tile_rows_residual(float* y, const float* base, const event_span* spans, std::size_t R, const folded_linear& f,
                        const std::uint32_t* order, std::size_t T, const lif_coeffs* c, std::uint64_t* fired) {
    const std::size_t out = f.out;
#if defined(__AVX2__)
    assert(!c || out % weight_tile == 0);
    std::optional<tile_lif> lif;
    if (c) lif.emplace(*c, T, out, fired);
#else
    assert(!c);  // no fused population without AVX2
    (void)T, (void)c, (void)fired;
#endif
    tile_sums<Ones>(spans, R, 1, f.tiles.data(), f.in, out, f.bias.data(), order,
                    [&](std::size_t i, std::size_t r, std::size_t t, std::size_t width, v8 a0, v8 a1, v8 a2, v8 a3,
                        v8 a4, v8 a5, v8 a6, v8 a7) {
                        const std::size_t at = r * out + t * weight_tile;
                        // the residual input, its last tile padded with zeros (never stored past width)
                        v8u b[8] = {};
                        if (width == weight_tile)  // a memcpy of constant size: eight vector loads, no call
                            std::memcpy(b, base + at, sizeof b);
                        else
                            std::memcpy(b, base + at, width * sizeof(float));
                        a0 = b[0] + a0, a1 = b[1] + a1, a2 = b[2] + a2, a3 = b[3] + a3;
                        a4 = b[4] + a4, a5 = b[5] + a5, a6 = b[6] + a6, a7 = b[7] + a7;
                        store_tile(y + at, width, a0, a1, a2, a3, a4, a5, a6, a7);
#if defined(__AVX2__)
                        if (lif) (*lif)(i, r, t, a0, a1, a2, a3, a4, a5, a6, a7);
#else
                        (void)i;
#endif
                    });
}

// y [rows, O] = X [rows, D] W [D, O] for the "residual" readout, each output summed over c = 0 .. D-1 in order
// from 0 (the floats of add_rows on a zeroed row, with every input a row), in register panels of G tokens x
// 8 V outputs: each weight vector loaded serves G tokens. W comes as net.head_tiles ([O / 64][D][64],
// sim/network.hpp), so a panel's column of W is D pieces of 64 bytes (32 for an eight-wide panel) in 256-byte
// steps (D / 16 pages, on cache lines), which stays in L1 and in the TLB while all the tokens pass; from the [D, O]
// matrix the same column took one page per input (O x 4 bytes apart): on the D 256 model with no events the whole
// simulation took 1.22x this version's time (docs/simulator.md).
// Six tokens x sixteen outputs (twelve accumulators) measured fastest here; the last O % 16 outputs take an
// eight-wide panel, the last rows % 6 tokens one-token panels, and only the last O % 8 outputs are scalar.
template <std::size_t G, std::size_t V>
void head_panel(float* y, const float* x, const float* wt, std::size_t n0, std::size_t u0, std::size_t D,
                std::size_t O) {
    v8 a[G][V] = {};
    const float* x0 = x + n0 * D;
    const float* w = wt + (u0 / weight_tile) * D * weight_tile + u0 % weight_tile;  // W[c][u0 ..] = w[c 64 ..]
    for (std::size_t c = 0; c < D; ++c) {
        v8 wv[V];
        for (std::size_t q = 0; q < V; ++q) std::memcpy(&wv[q], w + c * weight_tile + 8 * q, sizeof(v8));
        for (std::size_t g = 0; g < G; ++g) {
            const float xc = x0[g * D + c];
            const v8 xv = {xc, xc, xc, xc, xc, xc, xc, xc};  // a broadcast: x itself, as the reference's scalar
            for (std::size_t q = 0; q < V; ++q) a[g][q] += xv * wv[q];
        }
    }
    for (std::size_t g = 0; g < G; ++g) std::memcpy(y + (n0 + g) * O + u0, a[g], sizeof a[g]);
}
template <std::size_t V>
void head_column(float* y, const float* x, const float* wt, std::size_t rows, std::size_t u0, std::size_t D,
                 std::size_t O) {
    constexpr std::size_t G = 6;
    std::size_t n0 = 0;
    for (; n0 + G <= rows; n0 += G) head_panel<G, V>(y, x, wt, n0, u0, D, O);
    for (; n0 < rows; ++n0) head_panel<1, V>(y, x, wt, n0, u0, D, O);
}
void dense_head(float* y, const float* x, const float* wt, std::size_t rows, std::size_t D, std::size_t O) {
    static_assert(weight_tile % 16 == 0, "a panel's 8 or 16 outputs within one tile");
    std::size_t u0 = 0;
    for (; u0 + 16 <= O; u0 += 16) head_column<2>(y, x, wt, rows, u0, D, O);
    if (u0 + 8 <= O) head_column<1>(y, x, wt, rows, u0, D, O), u0 += 8;
    for (std::size_t n = 0; n < rows; ++n)
        for (std::size_t u = u0; u < O; ++u) {
            const float* w = wt + (u / weight_tile) * D * weight_tile + u % weight_tile;
            float acc = 0.0f;
            for (std::size_t c = 0; c < D; ++c) acc += x[n * D + c] * w[c * weight_tile];
            y[n * O + u] = acc;
        }
}

// One step of one sequence: its N rows of the group start at row0.
struct segment {
    std::size_t seq, t, N, row0;
};

std::uint32_t to_u32(std::size_t v) {
    return static_cast<std::uint32_t>(v);
}

// A group's buffers. Each thread keeps one from group to group (workspace_lease), so that the buffers of a
// group (some MB: [rows, D] floats, the head's [tokens, O]) are not mapped afresh, page fault after page fault,
// for every group.
struct workspace {
    events::buffer<float> x, x1, cq, ck, cv, cf, head_acc;
    std::vector<float> v, o, x_sum;
    std::vector<events> ev;
    std::array<std::vector<events>, 3> qkv;
    std::vector<event_span> spans;
    std::vector<std::uint64_t> fired;
    std::vector<std::uint32_t> token_major;
    attention_scratch scratch;
    winner_scratch winner;
};
// The thread's workspace, or a workspace of its own for a call that finds it taken (a call nested in
// another on the same thread).
class workspace_lease {
public:
    workspace_lease() {
        if (busy_)
            own_ = std::make_unique<workspace>();
        else
            busy_ = taken_ = true;
    }
    ~workspace_lease() {
        if (taken_) busy_ = false;
    }
    workspace_lease(const workspace_lease&) = delete;
    workspace_lease& operator=(const workspace_lease&) = delete;
    workspace& get() { return own_ ? *own_ : kept_; }

private:
    static thread_local workspace kept_;
    static thread_local bool busy_;
    std::unique_ptr<workspace> own_;
    bool taken_ = false;
};
thread_local workspace workspace_lease::kept_;
thread_local bool workspace_lease::busy_ = false;

}  // namespace

std::vector<sim_result> simulate_layer_major(const sim_network& net, const std::vector<std::int32_t>* const* seqs,
                                             std::size_t S, bool record, bool membranes) {
    const model_config& cfg = net.cfg;
    const block_config& bc = cfg.block;
    const std::size_t D = cfg.D, F = cfg.F, T = cfg.T, H = cfg.H, O = net.head_outputs;
    const std::size_t kw = static_cast<std::size_t>(bc.attn.k);
    std::deque<sequence_state> st;  // built in place: the populations point into their own result
    std::vector<segment> segs;
    std::size_t R = 0, n_max = 0, tokens = 0;
    for (std::size_t s = 0; s < S; ++s) {
        check_sequence(cfg, *seqs[s]);
        st.emplace_back(net, *seqs[s], record, membranes, false);  // membranes allocated as they are stepped
        for (population* pop : st.back().populations) pop->reciprocal_exact = true;
        st.back().final_sn.reciprocal_exact = true;
        st.back().r.per_step.assign(T, {});
        st.back().r.per_step[0] += st.back().embed->ops;
        const std::size_t N = seqs[s]->size();
        for (std::size_t t = 0; t < T; ++t) segs.push_back({s, t, N, R + t * N});
        R += T * N;
        tokens += N;
        n_max = std::max(n_max, N);
    }
    const bool residual = st.front().residual;
    const int lv = bc.neuron == neuron_kind::nilif ? bc.nilif.levels : 1;
    const int final_lv = st.front().final_kind == neuron_kind::nilif ? bc.nilif.levels : 1;

    // counts go to the layer and to the segment's step
    auto tally = [&](const segment& g, layer_stats& ls, const op_counts& c) {
        ls.ops += c;
        st[g.seq].r.per_step[g.t] += c;
    };
    // a population's step of segment g (run by `stepping`), its counts also to the step
    auto account = [&](population& pop, const segment& g, auto&& stepping) {
        const op_counts before = pop.stats->ops;
        const std::uint64_t events_before = pop.stats->events;
        pop.t = to_u32(g.t);
        stepping();
        op_counts added = pop.stats->ops;
        for (std::size_t c = 0; c < n_op_classes; ++c) added.n[c] -= before.n[c];
        st[g.seq].r.per_step[g.t] += added;
        pop.stats->step_events.push_back(pop.stats->events - events_before);
    };
    auto step = [&](population& pop, const segment& g, float* s, events& ev, const float* x) {
        if (pop.state.empty()) pop.reset(g.N);
        account(pop, g, [&] { pop.step(s, ev, x, g.N); });
    };

    // The thread's buffers (workspace_lease). Every row of x .. cf and head_acc is written before it is read, so
    // they are not cleared; cq .. cf are sized where an unfused step needs them.
    workspace_lease lease;
    workspace& ws = lease.get();
    auto &x = ws.x, &x1 = ws.x1, &cq = ws.cq, &ck = ws.ck, &cv = ws.cv, &cf = ws.cf;
    auto &v = ws.v, &o = ws.o;
    x.resize(R * D), x1.resize(R * D), v.resize(n_max * D), o.resize(n_max * D);
    for (const segment& g : segs) std::copy(st[g.seq].x0.begin(), st[g.seq].x0.end(), x.begin() + g.row0 * D);
    std::vector<events>& ev = ws.ev;
    ev.resize(segs.size());
    std::array<std::vector<events>, 3>& qkv = ws.qkv;  // Q, K, V events per segment
    for (auto& q : qkv) q.resize(segs.size());
    attention_scratch& scratch = ws.scratch;
    winner_scratch& winner = ws.winner;
    const bool single_winner = single_winner_applies(cfg);
    std::vector<event_span>& spans = ws.spans;
    auto index = [&] {  // spans[row]: the row's events in ev
        spans.assign(R, {nullptr, nullptr, 0});
        for (std::size_t k = 0; k < segs.size(); ++k)
            for_each_token_run(ev[k], [&](std::size_t n, std::size_t b, std::size_t e) {
                spans[segs[k].row0 + n] = {ev[k].neuron.data() + b, ev[k].value.data() + b, to_u32(e - b)};
            });
    };
    auto count_linear = [&](const folded_linear& f, int levels, layer_stats* block_state::*layer, std::size_t l) {
        for (std::size_t k = 0; k < segs.size(); ++k) {
            op_counts c;
            c.add(op_class::ac, level_units(ev[k], levels) * f.out + segs[k].N * f.out);
            tally(segs[k], *(st[segs[k].seq].blocks[l].*layer), c);
        }
    };
    auto linear = [&](float* y, const folded_linear& f, int levels, layer_stats* block_state::*layer, std::size_t l) {
        tile_rows(y, spans.data(), R, 1, f.tiles.data(), f.in, f.out, f.bias.data(), levels == 1);
        count_linear(f, levels, layer, l);
    };
    // Whether the linear f can be fused with the LIF population `pop` it feeds (tile_rows_lif): whole tiles,
    // and the population on lif_pow2_events' path (the same for every sequence: one config).
    auto fusable = [&](const folded_linear& f, population block_state::*pop, std::size_t l) {
#if defined(__AVX2__)
        return f.out % weight_tile == 0 && (st.front().blocks[l].*pop).pow2_lif();
#else
        (void)f, (void)pop, (void)l;
        return false;
#endif
    };
    std::vector<std::uint32_t>& token_major = ws.token_major;  // the rows token by token, each token's T steps
    token_major.clear();
    for (std::size_t s = 0, k = 0; s < S; ++s, k += T)
        for (std::size_t n = 0; n < segs[k].N; ++n)
            for (std::size_t t = 0; t < T; ++t) token_major.push_back(to_u32(segs[k + t].row0 + n));
    std::vector<std::uint64_t>& fired = ws.fired;
    // The events of a population stepped inside a linear's pass (tile_lif), per segment from the fired masks
    // into out, and its counts where its own step puts them.
    auto fired_events = [&](std::size_t n_tiles, population block_state::*pop, std::size_t l,
                            std::vector<events>& out) {
        for (std::size_t k = 0; k < segs.size(); ++k) {
            const segment& g = segs[k];
            events& e = out[k];
            const std::uint64_t* mask = fired.data() + g.row0 * n_tiles;
            std::size_t count = 0;  // sized once, filled without a capacity check per event
            for (std::size_t i = 0; i < g.N * n_tiles; ++i) count += static_cast<std::size_t>(std::popcount(mask[i]));
            e.token.resize(count), e.neuron.resize(count), e.value.resize(count);
            std::uint32_t *tok = e.token.data(), *neu = e.neuron.data();
            std::fill(e.value.begin(), e.value.end(), 1.0f);
            for (std::size_t n = 0; n < g.N; ++n)
                for (std::size_t t = 0; t < n_tiles; ++t)
                    for (std::uint64_t m = mask[n * n_tiles + t]; m != 0; m &= m - 1) {
                        *tok++ = to_u32(n);
                        *neu++ = to_u32(t * weight_tile + static_cast<std::size_t>(std::countr_zero(m)));
                    }
            population& p = st[g.seq].blocks[l].*pop;
            account(p, g, [&] { p.count_step(g.N, e.token.size()); });
        }
    };
    // The fused linear and population: its events per segment go to out (which may be ev: the spans are read
    // before), and its counts where the two separate steps put them.
    auto linear_lif = [&](const folded_linear& f, int levels, layer_stats* block_state::*layer,
                          population block_state::*pop, std::size_t l, std::vector<events>& out) {
#if defined(__AVX2__)
        fired.resize(R * (f.out / weight_tile));
        tile_rows_lif(spans.data(), R, f, levels == 1, token_major.data(), T, (st.front().blocks[l].*pop).coeffs(),
                      fired.data());
        count_linear(f, levels, layer, l);
        fired_events(f.out / weight_tile, pop, l, out);
#else
        (void)f, (void)levels, (void)layer, (void)pop, (void)l, (void)out;
#endif
    };
    // y = base + the linear f (block l), and with `fuse` the population pop of block lp, which y feeds, stepped
    // in the same pass (its events to ev: the spans are read before).
    auto residual_linear = [&](float* y, const float* base, const folded_linear& f, int levels,
                               layer_stats* block_state::*layer, std::size_t l, population block_state::*pop,
                               std::size_t lp, bool fuse) {
        lif_coeffs c{};
        if (fuse) {
            c = (st.front().blocks[lp].*pop).coeffs();
            fired.resize(R * (f.out / weight_tile));
        }
        if (levels == 1)
            tile_rows_residual<true>(y, base, spans.data(), R, f, token_major.data(), T, fuse ? &c : nullptr,
                                     fired.data());
        else
            tile_rows_residual<false>(y, base, spans.data(), R, f, token_major.data(), T, fuse ? &c : nullptr,
                                      fired.data());
        count_linear(f, levels, layer, l);
        if (fuse) fired_events(f.out / weight_tile, pop, lp, ev);
    };

    bool sn1_stepped = false;  // block l's sn1 stepped in block l - 1's fc2 pass
    for (std::size_t l = 0; l < cfg.L; ++l) {
        const sim_block& w = net.blocks[l];
        if (!sn1_stepped)
            for (std::size_t k = 0; k < segs.size(); ++k)
                step(st[segs[k].seq].blocks[l].sn1, segs[k], nullptr, ev[k], x.data() + segs[k].row0 * D);
        index();
        // Q, K and V fused with their neurons where that applies (single winner: no dense V needed), all at once
        const bool fused = single_winner && fusable(w.q, &block_state::nq, l) && fusable(w.k, &block_state::nk, l) &&
                           fusable(w.v, &block_state::nv, l);
        if (fused) {
            linear_lif(w.q, lv, &block_state::lq, &block_state::nq, l, qkv[0]);
            linear_lif(w.k, lv, &block_state::lk, &block_state::nk, l, qkv[1]);
            linear_lif(w.v, lv, &block_state::lv, &block_state::nv, l, qkv[2]);
        } else {
            cq.resize(R * D), ck.resize(R * D), cv.resize(R * D);
            linear(cq.data(), w.q, lv, &block_state::lq, l);
            linear(ck.data(), w.k, lv, &block_state::lk, l);
            linear(cv.data(), w.v, lv, &block_state::lv, l);
        }
        for (std::size_t k = 0; k < segs.size(); ++k) {
            const segment& g = segs[k];
            block_state& b = st[g.seq].blocks[l];
            events &eq = qkv[0][k], &ek = qkv[1][k], &ev_v = qkv[2][k];
            if (!fused) {
                step(b.nq, g, nullptr, eq, cq.data() + g.row0 * D);
                step(b.nk, g, nullptr, ek, ck.data() + g.row0 * D);
                step(b.nv, g, single_winner ? nullptr : v.data(), ev_v,
                     cv.data() + g.row0 * D);  // dense V: the general attention step only
            }
            std::vector<std::int32_t>& wn = st[g.seq].r.winners;
            std::int32_t* winners = wn.empty() ? nullptr : wn.data() + ((l * T + g.t) * H) * g.N * kw;
            tally(g, *b.attn,
                  single_winner ? single_winner_step(o.data(), winners, winner, eq, ek, ev_v, g.N, cfg)
                                : attention_step(o.data(), winners, scratch, eq, ek, ev_v, v.data(), g.N, cfg));
            step(b.na, g, nullptr, ev[k], o.data());
        }
        index();
        // X1 = X + o(...), with sn2 on X1 in the same pass where it can be fused
        const bool sn2_fused = fusable(w.o, &block_state::sn2, l);
        residual_linear(x1.data(), x.data(), w.o, 1, &block_state::lo, l, &block_state::sn2, l, sn2_fused);
        if (!sn2_fused)
            for (std::size_t k = 0; k < segs.size(); ++k)
                step(st[segs[k].seq].blocks[l].sn2, segs[k], nullptr, ev[k], x1.data() + segs[k].row0 * D);
        index();
        if (fusable(w.fc1, &block_state::snh, l)) {
            linear_lif(w.fc1, lv, &block_state::l1, &block_state::snh, l, ev);
        } else {
            cf.resize(R * F);
            linear(cf.data(), w.fc1, lv, &block_state::l1, l);
            for (std::size_t k = 0; k < segs.size(); ++k)
                step(st[segs[k].seq].blocks[l].snh, segs[k], nullptr, ev[k], cf.data() + segs[k].row0 * F);
        }
        index();
        // X = X1 + fc2(...), with the next block's sn1 on X in the same pass where it can be fused
        sn1_stepped = l + 1 < cfg.L && fusable(w.fc2, &block_state::sn1, l + 1);
        residual_linear(x.data(), x1.data(), w.fc2, lv, &block_state::l2, l, &block_state::sn1, l + 1, sn1_stepped);
        for (const segment& g : segs) {
            op_counts c;
            c.add(op_class::ac, 2 * g.N * D);
            tally(g, *st[g.seq].blocks[l].residual, c);
        }
    }

    // The head, over the group's tokens at once: head_acc [tokens, O], sequence after sequence.
    events::buffer<float>& head_acc = ws.head_acc;  // every entry written by the head
    head_acc.resize(tokens * O);
    std::vector<std::size_t> token0(S + 1, 0);  // the first head row of each sequence
    for (std::size_t s = 0; s < S; ++s) token0[s + 1] = token0[s] + seqs[s]->size();
    if (residual) {  // sum_t X per token, then a dense D x O product on it (all D inputs, in order)
        std::vector<float>& x_sum = ws.x_sum;
        x_sum.assign(tokens * D, 0.0f);
        for (const segment& g : segs) {
            float* xs = x_sum.data() + token0[g.seq] * D;
            const float* xt = x.data() + g.row0 * D;
            for (std::size_t i = 0; i < g.N * D; ++i) xs[i] += xt[i];
            op_counts c;
            c.add(op_class::ac, g.N * D);
            tally(g, *st[g.seq].head, c);
        }
        dense_head(head_acc.data(), x_sum.data(), net.head_tiles.data(), tokens, D, O);
    } else {  // one weight row per final event; a token's row takes its steps in order
        for (std::size_t k = 0; k < segs.size(); ++k) {
            const segment& g = segs[k];
            step(st[g.seq].final_sn, g, nullptr, ev[k], x.data() + g.row0 * D);
            op_counts c;
            c.add(op_class::ac, level_units(ev[k], final_lv) * O);
            tally(g, *st[g.seq].head, c);
        }
        spans.assign(tokens * T, {nullptr, nullptr, 0});  // token row n of sequence s: spans (token0[s] + n) T + t
        for (std::size_t k = 0; k < segs.size(); ++k) {
            const segment& g = segs[k];
            for_each_token_run(ev[k], [&](std::size_t n, std::size_t b, std::size_t e) {
                spans[(token0[g.seq] + n) * T + g.t] = {ev[k].neuron.data() + b, ev[k].value.data() + b, to_u32(e - b)};
            });
        }
        tile_rows(head_acc.data(), spans.data(), tokens, T, net.head_tiles.data(), D, O, nullptr, final_lv == 1);
    }
    std::vector<sim_result> out;
    out.reserve(S);
    for (std::size_t s = 0; s < S; ++s) {
        finish_head(st[s].r, net, head_acc.data() + token0[s] * O, seqs[s]->size(), *st[s].head, residual);
        out.push_back(std::move(st[s].r));
    }
    return out;
}

std::vector<sim_result> simulate_grouped(const sim_network& net,
                                         const std::vector<std::vector<std::int32_t>>& sequences, progress* shown,
                                         bool record, bool membranes) {
    const std::size_t S = sequences.size();
    std::vector<sim_result> out(S);
    if (S == 0) return out;
    std::size_t rows = 0;
    for (const auto& q : sequences) rows += q.size() * net.cfg.T;
    const std::size_t groups = std::min(S, std::max((rows + group_rows - 1) / group_rows, std::min(S, max_threads())));
    std::vector<const std::vector<std::int32_t>*> ptr(S);
    for (std::size_t s = 0; s < S; ++s) ptr[s] = &sequences[s];
    parallel_for(groups, 1, [&](std::size_t b, std::size_t e) {
        for (std::size_t g = b; g < e; ++g) {
            const std::size_t s0 = g * S / groups, s1 = (g + 1) * S / groups;
            std::vector<sim_result> part = simulate_layer_major(net, ptr.data() + s0, s1 - s0, record, membranes);
            std::size_t tokens = 0;
            for (std::size_t s = s0; s < s1; ++s) {
                out[s] = std::move(part[s - s0]);
                tokens += sequences[s].size();
            }
            if (shown) shown->add(s1 - s0, tokens);
        }
    });
    return out;
}

}  // namespace wtasim::sim_detail
