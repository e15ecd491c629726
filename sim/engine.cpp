// The event-driven engine (sim/engine.hpp).
#include "sim/engine.hpp"

#include "sim/detail.hpp"

#include <cmath>

#include "attention/head_kernels.hpp"
#include "core/backend_registry.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/progress.hpp"
#include "neurons/step.hpp"
#include "sim/kernel_engine.hpp"
#include "sim/kernel_stream.hpp"
#include "sim/stream.hpp"
#ifdef WTASIM_HAVE_CUDA
#include "sim/cuda/backend.hpp"
#endif

namespace wtasim {
namespace {
using namespace sim_detail;

// s_ij per head [H, N, N] from the Q and K events of one step: for each channel, every pair of a query
// token and a key token that both spiked on it is one coincidence (pairs with j > i are skipped when causal:
// they are no candidates). Work grows with the events, not with N^2 d_h.
struct channel_lists {  // per channel, the tokens that spiked on it (kept across steps to reuse the memory)
    std::vector<std::vector<std::uint32_t>> q, k;
};

void coincidence_scores(std::vector<float>& scores, channel_lists& lists, const events& evq, const events& evk,
                        std::size_t N, std::size_t H, std::size_t dh, bool causal) {
    const std::size_t D = H * dh;
    auto& q_tokens = lists.q;
    auto& k_tokens = lists.k;
    q_tokens.resize(D);
    k_tokens.resize(D);
    for (std::size_t c = 0; c < D; ++c) q_tokens[c].clear(), k_tokens[c].clear();
    for (std::size_t e = 0; e < evq.token.size(); ++e) q_tokens[evq.neuron[e]].push_back(evq.token[e]);
    for (std::size_t e = 0; e < evk.token.size(); ++e) k_tokens[evk.neuron[e]].push_back(evk.token[e]);
    scores.assign(H * N * N, 0.0f);
    for (std::size_t c = 0; c < D; ++c) {
        float* head = scores.data() + (c / dh) * N * N;
        for (std::uint32_t i : q_tokens[c])
            for (std::uint32_t j : k_tokens[c]) {  // keys in token order: a causal query stops at the first later one
                if (causal && j > i) break;
                head[i * N + j] += 1.0f;
            }
    }
}

// The score of query i and key j read from a [N, N] matrix of one head.
struct matrix_score {
    const float* s;
    std::size_t N;
    float operator()(std::size_t i, std::size_t j) const { return s[i * N + j]; }
};

struct block_state {
    population sn1, nq, nk, nv, na, sn2, snh;
    layer_stats *lq, *lk, *lv, *lo, *l1, *l2, *attn, *residual;
};
}  // namespace

void check_sequence(const model_config& cfg, const std::vector<std::int32_t>& tokens) {
    if (tokens.empty() || tokens.size() > cfg.max_len)
        throw config_error("simulate: " + std::to_string(tokens.size()) +
                           " tokens, expected 1 to max_len = " + std::to_string(cfg.max_len));
    for (auto t : tokens)
        if (t < 0 || static_cast<std::size_t>(t) >= cfg.vocab)
            throw config_error("simulate: token id " + std::to_string(t) + " outside the vocabulary [0, " +
                               std::to_string(cfg.vocab) + ")");
}

sim_result simulate(const sim_network& net, const std::vector<std::int32_t>& tokens, bool record, bool membranes) {
    const model_config& cfg = net.cfg;
    const std::size_t N = tokens.size(), D = cfg.D, F = cfg.F, T = cfg.T, H = cfg.H, dh = D / H, O = net.head_outputs;
    check_sequence(cfg, tokens);
    sim_result r;
    // Layer table, in running order.
    const block_config& bc = cfg.block;
    const lif_params attn_lif = attention_output_neuron(bc);
    r.layers.reserve(16 * cfg.L + 4);
    auto layer = [&](const std::string& name) {
        r.layers.push_back({name, {}, 0, 0, 0});
        return &r.layers.back();
    };
    layer_stats* embed = layer("embed");
    std::vector<block_state> blocks;
    for (std::size_t l = 0; l < cfg.L; ++l) {
        const std::string p = "blocks." + std::to_string(l) + ".";
        block_state b;
        b.sn1 = {bc.neuron, bc.lif, bc.nilif, D, {}, layer(p + "sn1")};
        b.lq = layer(p + "attn.q");
        b.lk = layer(p + "attn.k");
        b.lv = layer(p + "attn.v");
        b.nq = {neuron_kind::lif, qk_neuron(bc), bc.nilif, D, {}, layer(p + "attn.sn_q")};
        b.nk = {neuron_kind::lif, qk_neuron(bc), bc.nilif, D, {}, layer(p + "attn.sn_k")};
        b.nv = {neuron_kind::lif, bc.lif, bc.nilif, D, {}, layer(p + "attn.sn_v")};
        b.attn = layer(p + "attn.select");
        b.na = {neuron_kind::lif, attn_lif, bc.nilif, D, {}, layer(p + "attn.sn_a")};
        b.lo = layer(p + "attn.o");
        b.residual = layer(p + "residual");
        b.sn2 = {bc.neuron, bc.lif, bc.nilif, D, {}, layer(p + "sn2")};
        b.l1 = layer(p + "mlp.fc1");
        b.snh = {bc.neuron, bc.lif, bc.nilif, F, {}, layer(p + "mlp.sn_h")};
        b.l2 = layer(p + "mlp.fc2");
        const auto& learned = net.blocks[l].neurons;  // in neuron_role order
        std::size_t role = 0;
        for (population* pop : {&b.sn1, &b.nq, &b.nk, &b.nv, &b.na, &b.sn2, &b.snh}) {
            pop->learned(learned[role++]);
            pop->reset(N);
        }
        blocks.push_back(b);
    }
    // the readout (docs/model.md §10): a final neuron of the block's kind, an NI-LIF one, or none ("residual")
    const bool residual = cfg.readout == "residual";
    const neuron_kind final_kind = cfg.readout == "levels" ? neuron_kind::nilif : bc.neuron;
    population final_sn{final_kind, bc.lif, bc.nilif, D, {}, residual ? nullptr : layer("sn_final")};
    final_sn.learned(net.final_neuron);
    final_sn.reset(N);
    std::vector<population*> populations;
    for (auto& b : blocks)
        for (population* pop : {&b.sn1, &b.nq, &b.nk, &b.nv, &b.na, &b.sn2, &b.snh}) populations.push_back(pop);
    if (!residual) populations.push_back(&final_sn);
    if (record) {
        r.spikes.reserve(populations.size());
        for (population* pop : populations) {
            r.spikes.push_back({pop->stats->name, pop->C, {}, {}, {}, {}});
            pop->record = &r.spikes.back();
            pop->record_membrane = membranes;
        }
    }
    op_counts before_step;
    layer_stats* head = layer("head");

    // X0 = E[token] + P[n]: the position add once per token, not per step.
    std::vector<float> x0(N * D);
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t c = 0; c < D; ++c)
            x0[n * D + c] = net.tok[static_cast<std::size_t>(tokens[n]) * D + c] + net.pos[n * D + c];
    embed->ops.add(op_class::ac, N * D);

    const int lv = bc.neuron == neuron_kind::nilif ? bc.nilif.levels : 1;
    const int final_lv = final_kind == neuron_kind::nilif ? bc.nilif.levels : 1;
    std::vector<float> x_sum(residual ? N * D : 0, 0.0f);  // "residual": sum_t X, the head reads it after the steps
    std::vector<float> x(N * D), s1(N * D), cur(N * F), q(N * D), k(N * D), v(N * D), o(N * D), z(N * D), x1(N * D),
        s2(N * D), hs(N * F), head_acc(N * O, 0.0f), sf(N * D);
    events ev, evq, evk, evv, evk_shift, evv_shift;
    std::vector<float> k_shift(bc.attn.shift ? N * D : 0), v_shift(bc.attn.shift ? N * D : 0);
    std::vector<std::int32_t> step_winners;
    std::vector<float> scores;
    channel_lists lists;
    const std::size_t kw = static_cast<std::size_t>(bc.attn.k);
    if (bc.attn.kind == attention_kind::wta) r.winners.assign(cfg.L * T * H * N * kw, -1);
    for (std::size_t t = 0; t < T; ++t) {
        for (population* pop : populations) pop->t = static_cast<std::uint32_t>(t);
        x = x0;
        for (std::size_t l = 0; l < cfg.L; ++l) {
            block_state& b = blocks[l];
            const sim_block& w = net.blocks[l];
            b.sn1.step(s1.data(), ev, x.data(), N);
            linear_from_events(cur.data(), ev, w.q, N, lv, *b.lq);
            b.nq.step(q.data(), evq, cur.data(), N);
            linear_from_events(cur.data(), ev, w.k, N, lv, *b.lk);
            b.nk.step(k.data(), evk, cur.data(), N);
            linear_from_events(cur.data(), ev, w.v, N, lv, *b.lv);
            b.nv.step(v.data(), evv, cur.data(), N);
            // the keys and values each token offers: its own spikes, or with the token shift also its predecessor's
            const events& keys = bc.attn.shift ? (shift_events(evk_shift, k_shift.data(), evk, N, D), evk_shift) : evk;
            if (bc.attn.shift) shift_events(evv_shift, v_shift.data(), evv, N, D);
            const float* vd = bc.attn.shift ? v_shift.data() : v.data();
            // attention on this step's events: per channel, every (Q event, K event) pair is one coincidence of
            // that query and key; then winner selection and the gather of the winners' V (the trainer's kernel)
            const attention_dims dims{seq_shape{1, 1, N}, H, dh, nullptr};
            step_winners.assign(bc.attn.kind == attention_kind::wta ? H * N * kw : 0, -1);
            coincidence_scores(scores, lists, evq, keys, N, H, dh, bc.attn.causal);
            for (std::size_t h = 0; h < H; ++h) {
                const detail::head_view hv{&dims, 0, 0, h};
                detail::head_forward(o.data(), step_winners.empty() ? nullptr : step_winners.data(), vd, hv, bc.attn,
                                     matrix_score{scores.data() + h * N * N, N});
            }
            b.attn->ops += attention_counts_from_scores(
                scores.data(), vd, step_winners.empty() ? nullptr : step_winners.data(), dims, bc.attn);
            if (!step_winners.empty())
                std::copy(step_winners.begin(), step_winners.end(),
                          r.winners.begin() + static_cast<std::ptrdiff_t>(((l * T + t) * H) * N * kw));
            b.na.step(z.data(), ev, o.data(), N);
            linear_from_events(cur.data(), ev, w.o, N, 1, *b.lo);
            for (std::size_t i = 0; i < N * D; ++i) x1[i] = x[i] + cur[i];
            b.sn2.step(s2.data(), ev, x1.data(), N);
            linear_from_events(cur.data(), ev, w.fc1, N, lv, *b.l1);
            b.snh.step(hs.data(), ev, cur.data(), N);
            linear_from_events(cur.data(), ev, w.fc2, N, lv, *b.l2);
            for (std::size_t i = 0; i < N * D; ++i) x[i] = x1[i] + cur[i];
            b.residual->ops.add(op_class::ac, 2 * N * D);
        }
        if (residual) {
            for (std::size_t i = 0; i < N * D; ++i) x_sum[i] += x[i];
            head->ops.add(op_class::ac, N * D);
        } else {
            final_sn.step(sf.data(), ev, x.data(), N);
            // the head: one weight row per final event, accumulated over the steps
            for_each_token_run(ev, [&](std::size_t n, std::size_t b, std::size_t end) {
                add_rows(head_acc.data() + n * O, O, end - b, [&](std::size_t i) {
                    return scaled_row{net.head_wt.data() + ev.neuron[b + i] * O, ev.value[b + i]};
                });
            });
            for (float val : ev.value)
                head->ops.add(op_class::ac,
                              static_cast<std::uint64_t>(std::llround(val * static_cast<float>(final_lv))) * O);
        }
        for (population* pop : populations) {
            std::uint64_t earlier = 0;
            for (auto e : pop->stats->step_events) earlier += e;
            pop->stats->step_events.push_back(pop->stats->events - earlier);
        }
        op_counts so_far;
        for (const auto& st : r.layers) so_far += st.ops;
        op_counts this_step = so_far;
        for (std::size_t c = 0; c < n_op_classes; ++c) this_step.n[c] -= before_step.n[c];
        r.per_step.push_back(this_step);
        before_step = so_far;
    }
    if (residual) {  // a real-valued operand: D x O MAC per token on sum_t X (the 1/T stays a division below)
        for (std::size_t n = 0; n < N; ++n)
            add_rows(head_acc.data() + n * O, O, D, [&](std::size_t c) {
                return scaled_row{net.head_wt.data() + c * O, x_sum[n * D + c]};
            });
        head->ops.add(op_class::mac, N * D * O);
        r.per_step.back().add(op_class::mac, N * D * O);
    }
    const std::size_t rows = net.pooled ? 1 : N;
    r.logits.assign(rows * O, 0.0f);
    if (net.pooled) {  // mean over t, then over the tokens (the trainer's order), then the bias
        for (std::size_t n = 0; n < N; ++n)
            for (std::size_t u = 0; u < O; ++u) r.logits[u] += head_acc[n * O + u] / static_cast<float>(T);
        for (std::size_t u = 0; u < O; ++u) r.logits[u] = r.logits[u] / static_cast<float>(N) + net.head_b[u];
    } else {
        for (std::size_t n = 0; n < N; ++n)
            for (std::size_t u = 0; u < O; ++u)
                r.logits[n * O + u] = head_acc[n * O + u] / static_cast<float>(T) + net.head_b[u];
    }
    head->ops.add(op_class::ac, rows * O);  // the bias, once per output row
    r.per_step.back().add(op_class::ac, rows * O);
    for (const auto& st : r.layers) r.total += st.ops;
    return r;
}

const backend_registry<sim_backend>& sim_registry() {
    static const backend_registry<sim_backend> r = [] {
        std::vector<sim_backend> present = {{"reference", sequence_schedule::serial},
                                            {"cpu", sequence_schedule::parallel},
                                            {"emulated", sequence_schedule::emulated}};
        std::vector<backend_registry<sim_backend>::absent> absent;
#ifdef WTASIM_HAVE_CUDA
        if (const std::string why = cuda::simulator_unavailable(); why.empty())
            present.push_back({"cuda", sequence_schedule::device});
        else
            absent.push_back({"cuda", why});
#else
        absent.push_back({"cuda", "this build has no CUDA: nvcc was not found at configure time"});
#endif
        return backend_registry<sim_backend>("simulator", std::move(present), std::move(absent));
    }();
    return r;
}

std::vector<std::string> sim_backend_names() {
    return sim_registry().names();
}

std::unique_ptr<kernel_decoder> kernel_decoder_for(const sim_network& net, sequence_schedule where) {
    if (where == sequence_schedule::emulated) {
        struct host_decoder final : kernel_decoder {
            host_executor ex;
            kernel_stream<host_executor> stream;
            explicit host_decoder(const sim_network& n) : stream(ex, n) {}
            std::vector<float> push(std::int32_t token, op_counts* ops) override { return stream.push(token, ops); }
        };
        return std::make_unique<host_decoder>(net);
    }
#ifdef WTASIM_HAVE_CUDA
    if (where == sequence_schedule::device) return cuda::make_stream(net);
#endif
    return nullptr;
}

std::string sim_backend_absence(const std::string& name) {
    return sim_registry().why_absent(name);
}

const sim_backend& sim_backend_named(const std::string& name) {
    return sim_registry().named(name);
}

std::vector<sim_result> simulate_batch(const sim_network& net, const std::vector<std::vector<std::int32_t>>& sequences,
                                       sequence_schedule schedule, progress* shown, bool record, bool membranes) {
    if (schedule == sequence_schedule::device) {
#ifdef WTASIM_HAVE_CUDA
        return cuda::simulate_batch(net, sequences, record, membranes, shown);
#else
        throw backend_error("simulator backend \"cuda\" is not available: this build has no CUDA");
#endif
    }
    if (schedule == sequence_schedule::emulated) {
        host_executor ex;
        std::vector<sim_result> out = kernel_simulator<host_executor>(ex, net).run(sequences, record, membranes);
        if (shown)
            for (const auto& s : sequences) shown->add(1, s.size());
        return out;
    }
    std::vector<sim_result> out(sequences.size());
    auto one = [&](std::size_t i) {
        out[i] = simulate(net, sequences[i], record, membranes);
        if (shown) shown->add(1, sequences[i].size());
    };
    if (schedule == sequence_schedule::serial) {
        for (std::size_t i = 0; i < sequences.size(); ++i) one(i);
    } else {
        parallel_for(sequences.size(), 1, [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) one(i);
        });
    }
    return out;
}

}  // namespace wtasim
