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
#include <cstring>
#include <deque>

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
// Blocking the weights further (256 outputs x 128 inputs per block, the rows of the group per block) measured
// 1.05x slower on the D 256 model (docs/simulator.md), so a row's outputs are added whole.
constexpr std::size_t group_rows = 1024;

// Event i of span sp as a weight row of wt [in, out] and its value.
scaled_row weight_row(const event_span& sp, std::size_t i, const float* wt, std::size_t out) {
    return scaled_row{wt + static_cast<std::size_t>(sp.neuron[i]) * out, sp.value[i]};
}

// A linear's outputs y [R, out]: row r = 0 + its events' rows (spans[r], in input order) + bias, in one sweep.
void linear_rows(float* y, const event_span* spans, std::size_t R, const float* wt, std::size_t out,
                 const float* bias) {
    for (std::size_t r = 0; r < R; ++r)
        sum_rows(
            y + r * out, out, spans[r].count, [&](std::size_t i) { return weight_row(spans[r], i, wt, out); }, bias);
}

// The head's sums acc [R, out] += the rows of token r's events, its T spans spans[r T .. r T + T) in step order.
void head_rows(float* acc, const event_span* spans, std::size_t R, std::size_t T, const float* wt, std::size_t out) {
    for (std::size_t r = 0; r < R; ++r)
        for (std::size_t s = r * T; s < (r + 1) * T; ++s)
            add_rows(acc + r * out, out, spans[s].count,
                     [&](std::size_t i) { return weight_row(spans[s], i, wt, out); });
}

// y [rows, O] = X [rows, D] W [D, O] for the "residual" readout, each output summed over c = 0 .. D-1 in order
// from 0 (the floats of add_rows on a zeroed row, with every input a row): four tokens x sixteen outputs in
// registers, so each weight vector loaded serves four tokens; a sixteen-output panel of W (D x 64 bytes)
// stays in L1 while all the tokens pass.
void dense_head(float* y, const float* x, const float* w, std::size_t rows, std::size_t D, std::size_t O) {
    typedef float v8 __attribute__((vector_size(32)));
    auto scalar = [&](std::size_t n, std::size_t u) {
        float acc = 0.0f;
        for (std::size_t c = 0; c < D; ++c) acc += x[n * D + c] * w[c * O + u];
        y[n * O + u] = acc;
    };
    std::size_t u0 = 0;
    for (; u0 + 16 <= O; u0 += 16) {
        std::size_t n0 = 0;
        for (; n0 + 4 <= rows; n0 += 4) {
            v8 a[4][2] = {};
            const float* x0 = x + n0 * D;
            for (std::size_t c = 0; c < D; ++c) {
                v8 w0, w1;
                std::memcpy(&w0, w + c * O + u0, sizeof w0);
                std::memcpy(&w1, w + c * O + u0 + 8, sizeof w1);
                for (std::size_t g = 0; g < 4; ++g) {
                    const v8 xv = v8{} + x0[g * D + c];
                    a[g][0] += xv * w0;
                    a[g][1] += xv * w1;
                }
            }
            for (std::size_t g = 0; g < 4; ++g) std::memcpy(y + (n0 + g) * O + u0, a[g], sizeof a[g]);
        }
        for (; n0 < rows; ++n0)
            for (std::size_t u = u0; u < u0 + 16; ++u) scalar(n0, u);
    }
    for (std::size_t n = 0; n < rows; ++n)
        for (std::size_t u = u0; u < O; ++u) scalar(n, u);
}

// One step of one sequence: its N rows of the group start at row0.
struct segment {
    std::size_t seq, t, N, row0;
};

std::uint32_t to_u32(std::size_t v) {
    return static_cast<std::uint32_t>(v);
}

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
        st.emplace_back(net, *seqs[s], record, membranes);
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
    auto step = [&](population& pop, const segment& g, float* s, events& ev, const float* x) {
        const op_counts before = pop.stats->ops;
        const std::uint64_t events_before = pop.stats->events;
        pop.t = to_u32(g.t);
        pop.step(s, ev, x, g.N);
        op_counts added = pop.stats->ops;
        for (std::size_t c = 0; c < n_op_classes; ++c) added.n[c] -= before.n[c];
        st[g.seq].r.per_step[g.t] += added;
        pop.stats->step_events.push_back(pop.stats->events - events_before);
    };

    std::vector<float> x(R * D), x1(R * D), cq(R * D), ck(R * D), cv(R * D), cf(R * F), spikes(n_max * std::max(D, F)),
        v(n_max * D), o(n_max * D);
    for (const segment& g : segs) std::copy(st[g.seq].x0.begin(), st[g.seq].x0.end(), x.begin() + g.row0 * D);
    std::vector<events> ev(segs.size());
    events evq, evk, evv;
    attention_scratch scratch;
    winner_scratch winner;
    const bool single_winner = single_winner_applies(cfg);
    std::vector<event_span> spans;
    auto index = [&] {  // spans[row]: the row's events in ev
        spans.assign(R, {nullptr, nullptr, 0});
        for (std::size_t k = 0; k < segs.size(); ++k)
            for_each_token_run(ev[k], [&](std::size_t n, std::size_t b, std::size_t e) {
                spans[segs[k].row0 + n] = {ev[k].neuron.data() + b, ev[k].value.data() + b, to_u32(e - b)};
            });
    };
    auto linear = [&](float* y, const folded_linear& f, int levels, layer_stats* block_state::*layer, std::size_t l) {
        linear_rows(y, spans.data(), R, f.wt.data(), f.out, f.bias.data());
        for (std::size_t k = 0; k < segs.size(); ++k) {
            op_counts c;
            c.add(op_class::ac, level_units(ev[k], levels) * f.out + segs[k].N * f.out);
            tally(segs[k], *(st[segs[k].seq].blocks[l].*layer), c);
        }
    };

    for (std::size_t l = 0; l < cfg.L; ++l) {
        const sim_block& w = net.blocks[l];
        for (std::size_t k = 0; k < segs.size(); ++k)
            step(st[segs[k].seq].blocks[l].sn1, segs[k], spikes.data(), ev[k], x.data() + segs[k].row0 * D);
        index();
        linear(cq.data(), w.q, lv, &block_state::lq, l);
        linear(ck.data(), w.k, lv, &block_state::lk, l);
        linear(cv.data(), w.v, lv, &block_state::lv, l);
        for (std::size_t k = 0; k < segs.size(); ++k) {
            const segment& g = segs[k];
            block_state& b = st[g.seq].blocks[l];
            step(b.nq, g, spikes.data(), evq, cq.data() + g.row0 * D);
            step(b.nk, g, spikes.data(), evk, ck.data() + g.row0 * D);
            step(b.nv, g, v.data(), evv, cv.data() + g.row0 * D);
            std::vector<std::int32_t>& wn = st[g.seq].r.winners;
            std::int32_t* winners = wn.empty() ? nullptr : wn.data() + ((l * T + g.t) * H) * g.N * kw;
            tally(g, *b.attn,
                  single_winner ? single_winner_step(o.data(), winners, winner, evq, evk, evv, g.N, cfg)
                                : attention_step(o.data(), winners, scratch, evq, evk, evv, v.data(), g.N, cfg));
            step(b.na, g, spikes.data(), ev[k], o.data());
        }
        index();
        linear(cq.data(), w.o, 1, &block_state::lo, l);
        for (std::size_t i = 0; i < R * D; ++i) x1[i] = x[i] + cq[i];
        for (std::size_t k = 0; k < segs.size(); ++k)
            step(st[segs[k].seq].blocks[l].sn2, segs[k], spikes.data(), ev[k], x1.data() + segs[k].row0 * D);
        index();
        linear(cf.data(), w.fc1, lv, &block_state::l1, l);
        for (std::size_t k = 0; k < segs.size(); ++k)
            step(st[segs[k].seq].blocks[l].snh, segs[k], spikes.data(), ev[k], cf.data() + segs[k].row0 * F);
        index();
        linear(cq.data(), w.fc2, lv, &block_state::l2, l);
        for (std::size_t i = 0; i < R * D; ++i) x[i] = x1[i] + cq[i];
        for (const segment& g : segs) {
            op_counts c;
            c.add(op_class::ac, 2 * g.N * D);
            tally(g, *st[g.seq].blocks[l].residual, c);
        }
    }

    // The head, over the group's tokens at once: head_acc [tokens, O], sequence after sequence.
    std::vector<float> head_acc(tokens * O, 0.0f);
    std::vector<std::size_t> token0(S + 1, 0);  // the first head row of each sequence
    for (std::size_t s = 0; s < S; ++s) token0[s + 1] = token0[s] + seqs[s]->size();
    if (residual) {  // sum_t X per token, then a dense D x O product on it (all D inputs, in order)
        std::vector<float> x_sum(tokens * D, 0.0f);
        for (const segment& g : segs) {
            float* xs = x_sum.data() + token0[g.seq] * D;
            const float* xt = x.data() + g.row0 * D;
            for (std::size_t i = 0; i < g.N * D; ++i) xs[i] += xt[i];
            op_counts c;
            c.add(op_class::ac, g.N * D);
            tally(g, *st[g.seq].head, c);
        }
        dense_head(head_acc.data(), x_sum.data(), net.head_wt.data(), tokens, D, O);
    } else {  // one weight row per final event; a token's row takes its steps in order
        for (std::size_t k = 0; k < segs.size(); ++k) {
            const segment& g = segs[k];
            step(st[g.seq].final_sn, g, spikes.data(), ev[k], x.data() + g.row0 * D);
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
        head_rows(head_acc.data(), spans.data(), tokens, T, net.head_wt.data(), O);
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
