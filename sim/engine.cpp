// The event-driven engine (sim/engine.hpp).
#include "sim/engine.hpp"

#include "sim/layer_major.hpp"
#include "sim/sequence_state.hpp"

#include <cmath>
#include <utility>

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
namespace sim_detail {

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

namespace {
// The score of query i and key j read from a [N, N] matrix of one head.
struct matrix_score {
    const float* s;
    std::size_t N;
    float operator()(std::size_t i, std::size_t j) const { return s[i * N + j]; }
};
}  // namespace

op_counts attention_step(float* o, std::int32_t* winners, attention_scratch& s, const events& evq, const events& evk,
                         const events& evv, const float* v, std::size_t N, const model_config& cfg) {
    const block_config& bc = cfg.block;
    const std::size_t D = cfg.D, H = cfg.H, dh = D / H;
    // the keys and values each token offers: its own spikes, or with the token shift also its predecessor's
    if (bc.attn.shift) {
        s.k_shift.resize(N * D);
        s.v_shift.resize(N * D);
        shift_events(s.evk_shift, s.k_shift.data(), evk, N, D);
        shift_events(s.evv_shift, s.v_shift.data(), evv, N, D);
    }
    const events& keys = bc.attn.shift ? s.evk_shift : evk;
    const float* vd = bc.attn.shift ? s.v_shift.data() : v;
    // per channel, every (Q event, K event) pair is one coincidence of that query and key; then winner
    // selection and the gather of the winners' V (the trainer's kernel)
    const attention_dims dims{seq_shape{1, 1, N}, H, dh, nullptr};
    if (winners) std::fill(winners, winners + H * N * static_cast<std::size_t>(bc.attn.k), -1);
    coincidence_scores(s.scores, s.lists, evq, keys, N, H, dh, bc.attn.causal);
    for (std::size_t h = 0; h < H; ++h) {
        const detail::head_view hv{&dims, 0, 0, h};
        detail::head_forward(o, winners, vd, hv, bc.attn, matrix_score{s.scores.data() + h * N * N, N});
    }
    return attention_counts_from_scores(s.scores.data(), vd, winners, dims, bc.attn);
}

sequence_state::sequence_state(const sim_network& net, const std::vector<std::int32_t>& tokens, bool record,
                               bool membranes, bool states) {
    const model_config& cfg = net.cfg;
    const std::size_t N = tokens.size(), D = cfg.D, F = cfg.F;
    const block_config& bc = cfg.block;
    const lif_params attn_lif = attention_output_neuron(bc);
    r.layers.reserve(16 * cfg.L + 4);  // never reallocated: the populations hold pointers into it
    auto layer = [&](const std::string& name) {
        r.layers.push_back({name, {}, 0, 0, 0});
        return &r.layers.back();
    };
    embed = layer("embed");
    blocks.reserve(cfg.L);
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
            if (states) pop->reset(N);
        }
        blocks.push_back(std::move(b));
    }
    // the readout (docs/model.md §10): a final neuron of the block's kind, an NI-LIF one, or none ("residual")
    residual = cfg.readout == "residual";
    final_kind = cfg.readout == "levels" ? neuron_kind::nilif : bc.neuron;
    final_sn = {final_kind, bc.lif, bc.nilif, D, {}, residual ? nullptr : layer("sn_final")};
    final_sn.learned(net.final_neuron);
    if (states) final_sn.reset(N);
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
    head = layer("head");
    // X0 = E[token] + P[n]: the position add once per token, not per step.
    x0.resize(N * D);
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t c = 0; c < D; ++c)
            x0[n * D + c] = net.tok[static_cast<std::size_t>(tokens[n]) * D + c] + net.pos[n * D + c];
    embed->ops.add(op_class::ac, N * D);
    if (bc.attn.kind == attention_kind::wta) r.winners.assign(cfg.L * cfg.T * cfg.H * N * bc.attn.k, -1);
}

}  // namespace sim_detail

using namespace sim_detail;

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
    const std::size_t N = tokens.size(), D = cfg.D, F = cfg.F, T = cfg.T, H = cfg.H, O = net.head_outputs;
    check_sequence(cfg, tokens);
    sequence_state st(net, tokens, record, membranes);
    sim_result& r = st.r;
    const block_config& bc = cfg.block;
    const bool residual = st.residual;
    op_counts before_step;
    const int lv = bc.neuron == neuron_kind::nilif ? bc.nilif.levels : 1;
    const int final_lv = st.final_kind == neuron_kind::nilif ? bc.nilif.levels : 1;
    std::vector<float> x_sum(residual ? N * D : 0, 0.0f);  // "residual": sum_t X, the head reads it after the steps
    std::vector<float> x(N * D), s1(N * D), cur(N * std::max(D, F)), q(N * D), k(N * D), v(N * D), o(N * D), z(N * D),
        x1(N * D), s2(N * D), hs(N * F), head_acc(N * O, 0.0f), sf(N * D);
    events ev, evq, evk, evv;
    attention_scratch scratch;
    const std::size_t kw = static_cast<std::size_t>(bc.attn.k);
    for (std::size_t t = 0; t < T; ++t) {
        for (population* pop : st.populations) pop->t = static_cast<std::uint32_t>(t);
        x = st.x0;
        for (std::size_t l = 0; l < cfg.L; ++l) {
            block_state& b = st.blocks[l];
            const sim_block& w = net.blocks[l];
            b.sn1.step(s1.data(), ev, x.data(), N);
            linear_from_events(cur.data(), ev, w.q, N, lv, *b.lq);
            b.nq.step(q.data(), evq, cur.data(), N);
            linear_from_events(cur.data(), ev, w.k, N, lv, *b.lk);
            b.nk.step(k.data(), evk, cur.data(), N);
            linear_from_events(cur.data(), ev, w.v, N, lv, *b.lv);
            b.nv.step(v.data(), evv, cur.data(), N);
            std::int32_t* winners = r.winners.empty() ? nullptr : r.winners.data() + ((l * T + t) * H) * N * kw;
            b.attn->ops += attention_step(o.data(), winners, scratch, evq, evk, evv, v.data(), N, cfg);
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
            st.head->ops.add(op_class::ac, N * D);
        } else {
            st.final_sn.step(sf.data(), ev, x.data(), N);
            // the head: one weight row per final event, accumulated over the steps
            for_each_token_run(ev, [&](std::size_t n, std::size_t b, std::size_t end) {
                add_rows(head_acc.data() + n * O, O, end - b, [&](std::size_t i) {
                    return scaled_row{net.head_wt.data() + ev.neuron[b + i] * O, ev.value[b + i]};
                });
            });
            st.head->ops.add(op_class::ac, level_units(ev, final_lv) * O);
        }
        for (population* pop : st.populations) {
            std::uint64_t earlier = 0;
            for (auto e : pop->stats->step_events) earlier += e;
            pop->stats->step_events.push_back(pop->stats->events - earlier);
        }
        op_counts so_far;
        for (const auto& ls : r.layers) so_far += ls.ops;
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
    }
    finish_head(r, net, head_acc.data(), N, *st.head, residual);
    return std::move(st.r);
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
    if (schedule == sequence_schedule::parallel) return simulate_grouped(net, sequences, shown, record, membranes);
    std::vector<sim_result> out(sequences.size());  // the step-major reference, one sequence after another
    for (std::size_t i = 0; i < sequences.size(); ++i) {
        out[i] = simulate(net, sequences[i], record, membranes);
        if (shown) shown->add(1, sequences[i].size());
    }
    return out;
}

}  // namespace wtasim
