// The engine's step loop (sim/engine.cpp, docs/simulator.md) on the kernel bodies of sim/kernels.hpp, for any
// executor that holds buffers and launches bodies. host_executor below runs them through the emulated
// launcher, so the whole loop that the CUDA backend runs (sim/cuda/backend.cpp) is tested on every machine
// against the CPU engine: logits, every layer's operation counts and events, winners and traces, bit for bit
// (tests/sim/test_kernels.cpp). Every attention kind, both neuron kinds, learned constants, the three readouts
// and task heads run on it.
//
// Where the data lives: the folded network is uploaded once (kernel_simulator's constructor); a batch of B
// sequences of one length runs as one set of [B x N] launches; tokens go in once, and the logits, the
// per-sequence tallies (events and active neurons per population and step, the attention's data-dependent
// AC per block and step) and the winners come out once, at the end. The counts of docs/model.md §7 that
// depend on sizes alone (NU, biases, residual adds, WTA comparisons, softmax's MAC/EXP/DIV) are added on the
// host. With a trace, each population's spikes (and membranes) also come out after every step.
//
// An executor provides  buffer<T> upload(const std::vector<T>&),  std::vector<T> download(const buffer<T>&)
// (and download(buffer, n): its first n elements),
// buffer<T> zeros<T>(n)  and  launch(body, n);  a buffer's data() is what the bodies receive and its size()
// its length. sim/cuda/executor.hpp is the GPU's.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/launch.hpp"
#include "sim/engine.hpp"
#include "sim/kernels.hpp"
#include "sim/network.hpp"

namespace wtasim {

// Buffers are host vectors; bodies run through emulate_launch.
struct host_executor {
    template <class T>
    using buffer = std::vector<T>;
    template <class T>
    buffer<T> upload(const std::vector<T>& host) const {
        return host;
    }
    template <class T>
    std::vector<T> download(const buffer<T>& b) const {
        return b;
    }
    template <class T>
    std::vector<T> download(const buffer<T>& b, std::size_t n) const {
        return std::vector<T>(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
    }
    template <class T>
    buffer<T> zeros(std::size_t n) const {
        return buffer<T>(n, T{});
    }
    template <class Body>
    void launch(const Body& body, std::size_t n) const {
        emulate_launch(n, body);
    }
};

// Why the kernel engine cannot run `net`, or "" when it can.
inline std::string kernel_engine_refusal(const sim_network& net) {
    const attention_config& a = net.cfg.block.attn;
    if (a.kind == attention_kind::wta && a.k > sim_kernels::attend::max_k)
        return "k = " + std::to_string(a.k) + " is more than the kernels' " +
               std::to_string(sim_kernels::attend::max_k);
    if (a.bias_len > sim_kernels::attend::max_bias)
        return "a recency table of " + std::to_string(a.bias_len) + " entries is longer than the kernels' " +
               std::to_string(sim_kernels::attend::max_bias);
    return "";
}

// The folded network resident in an executor's buffers, with the steps the engine and the stream share.
template <class Exec>
struct kernel_network {
    using fbuf = typename Exec::template buffer<float>;
    struct population {
        neuron_kind kind;
        lif_params lif;
        std::size_t C;
        fbuf tau, v_th;
        std::string name;
        float v0;  // the membrane before the first step
    };
    struct linear {
        fbuf wt, bias;
        std::size_t in, out;
    };

    // Uploads the folded network; throws config_error when kernel_engine_refusal(net) says why not.
    kernel_network(Exec& e, const sim_network& n) : ex(e), net(n) {
        if (const std::string why = kernel_engine_refusal(net); !why.empty())
            throw config_error("kernel engine: " + why);
        const block_config& bc = net.cfg.block;
        const lif_params attn_lif = attention_output_neuron(bc);
        for (std::size_t l = 0; l < net.cfg.L; ++l) {
            const sim_block& w = net.blocks[l];
            const std::string p = "blocks." + std::to_string(l) + ".";
            const neuron_kind kinds[7] = {bc.neuron,        neuron_kind::lif, neuron_kind::lif, neuron_kind::lif,
                                          neuron_kind::lif, bc.neuron,        bc.neuron};
            const lif_params lifs[7] = {bc.lif, qk_neuron(bc), qk_neuron(bc), bc.lif, attn_lif, bc.lif, bc.lif};
            const char* names[7] = {"sn1", "attn.sn_q", "attn.sn_k", "attn.sn_v", "attn.sn_a", "sn2", "mlp.sn_h"};
            for (std::size_t r = 0; r < 7; ++r)
                pops.push_back(
                    population_of(kinds[r], lifs[r], r == 6 ? net.cfg.F : net.cfg.D, w.neurons[r], p + names[r]));
            for (const folded_linear* f : {&w.q, &w.k, &w.v, &w.o, &w.fc1, &w.fc2})
                linears.push_back({ex.upload(f->wt), ex.upload(f->bias), f->in, f->out});
        }
        residual = net.cfg.readout == "residual";
        if (!residual)
            pops.push_back(population_of(net.cfg.readout == "levels" ? neuron_kind::nilif : bc.neuron, bc.lif,
                                         net.cfg.D, net.final_neuron, "sn_final"));
        tok = ex.upload(net.tok);
        pos = ex.upload(net.pos);
        head_wt = ex.upload(net.head_wt);
        head_b = ex.upload(net.head_b);
    }

    float levels_of(const population& p) const {
        return p.kind == neuron_kind::nilif ? static_cast<float>(net.cfg.block.nilif.levels) : 1.0f;
    }

    // One step of population p on `rows` rows: state and spikes s updated, its tallies written to ev / on.
    void step(const population& p, float* state, float* s, const float* x, std::size_t rows, std::uint64_t* ev,
              std::uint64_t* on, float* membrane) const {
        if (p.kind == neuron_kind::nilif) {
            ex.launch(sim_kernels::nilif_population{state, s, x, nilif_coeffs_of(net.cfg.block.nilif), membrane},
                      rows * p.C);
        } else {
            ex.launch(
                sim_kernels::lif_population{state, s, x, lif_coeffs_of(p.lif), p.tau.size() ? p.tau.data() : nullptr,
                                            p.v_th.size() ? p.v_th.data() : nullptr, p.C, membrane},
                rows * p.C);
        }
        ex.launch(sim_kernels::row_tally{ev, on, s, p.C, levels_of(p)}, rows);
    }
    void apply(float* y, const float* s, const linear& f, std::size_t rows) const {
        ex.launch(sim_kernels::spike_linear{y, s, f.wt.data(), f.bias.data(), f.in, f.out}, rows * f.out);
    }
    // The attention body of this model for queries `d` (its pointers set per launch).
    sim_kernels::attend attention(const sim_kernels::query_rows& d) const {
        const attention_config& a = net.cfg.block.attn;
        sim_kernels::attend att{nullptr, nullptr, nullptr, nullptr, nullptr, d};
        att.kind = a.kind == attention_kind::wta   ? sim_kernels::attend::wta
                   : a.kind == attention_kind::ssa ? sim_kernels::attend::ssa
                                                   : sim_kernels::attend::softmax;
        att.k = a.k;
        att.causal = a.causal;
        att.fill = a.fill;
        att.ssa_scale = a.ssa_scale;
        for (std::size_t i = 0; i < a.bias_len; ++i) att.bias[i] = a.bias[i];
        att.bias_len = a.bias_len;
        return att;
    }

    // The layer table of sim/engine.cpp, in running order, with every layer's counts for `N` token rows: from
    // the device's tallies (events(t, p), active(t, p) of population p at step t; attn(l, t), the attention's
    // data-dependent AC of block l) and the sizes: `pairs` candidate keys per head over the queries, `bonus_pairs`
    // of them with a positive recency bonus.
    template <class Ev, class On, class Att>
    void assemble_counts(sim_result& r, std::size_t N, std::size_t pairs, std::size_t bonus_pairs, Ev&& events,
                         On&& active, Att&& attn) const {
        const model_config& cfg = net.cfg;
        const attention_config& ac = cfg.block.attn;
        const std::size_t D = cfg.D, T = cfg.T, H = cfg.H, O = net.head_outputs, P = pops.size();
        r.layers.clear();
        r.per_step.assign(T, op_counts{});
        auto layer = [&](const std::string& name) -> layer_stats& {
            r.layers.push_back({name, {}, 0, 0, 0});
            return r.layers.back();
        };
        auto count = [&](layer_stats& st, std::size_t t, op_class c, std::uint64_t n) {
            st.ops.add(c, n);
            r.per_step[t].add(c, n);
        };
        auto pop_layer = [&](std::size_t p) {
            layer_stats& st = layer(pops[p].name);
            for (std::size_t t = 0; t < T; ++t) {
                st.events += events(t, p);
                st.active += active(t, p);
                st.neurons += N * pops[p].C;
                st.step_events.push_back(events(t, p));
                count(st, t, op_class::nu, N * pops[p].C);
            }
        };
        // a spiking linear fed by population p: a row per input event, a bias per token
        auto linear_layer = [&](const std::string& name, std::size_t p, std::size_t out) {
            layer_stats& st = layer(name);
            for (std::size_t t = 0; t < T; ++t) count(st, t, op_class::ac, (events(t, p) + N) * out);
        };
        count(layer("embed"), 0, op_class::ac, N * D);
        for (std::size_t l = 0; l < cfg.L; ++l) {
            const std::string pre = "blocks." + std::to_string(l) + ".";
            const std::size_t p0 = 7 * l;
            pop_layer(p0 + 0);
            linear_layer(pre + "attn.q", p0 + 0, D);
            linear_layer(pre + "attn.k", p0 + 0, D);
            linear_layer(pre + "attn.v", p0 + 0, D);
            pop_layer(p0 + 1);
            pop_layer(p0 + 2);
            pop_layer(p0 + 3);
            layer_stats& sel = layer(pre + "attn.select");
            for (std::size_t t = 0; t < T; ++t) {
                count(sel, t, op_class::ac, attn(l, t) + H * bonus_pairs);
                if (ac.kind == attention_kind::wta) count(sel, t, op_class::cmp, H * pairs * std::size_t(ac.k));
                if (ac.kind == attention_kind::softmax)
                    for (op_class c : {op_class::mac, op_class::exp, op_class::div}) count(sel, t, c, H * pairs);
            }
            pop_layer(p0 + 4);
            linear_layer(pre + "attn.o", p0 + 4, D);
            layer_stats& res = layer(pre + "residual");
            for (std::size_t t = 0; t < T; ++t) count(res, t, op_class::ac, 2 * N * D);
            pop_layer(p0 + 5);
            linear_layer(pre + "mlp.fc1", p0 + 5, cfg.F);
            pop_layer(p0 + 6);
            linear_layer(pre + "mlp.fc2", p0 + 6, D);
        }
        if (!residual) pop_layer(P - 1);
        layer_stats& head = layer("head");
        for (std::size_t t = 0; t < T; ++t) count(head, t, op_class::ac, residual ? N * D : events(t, P - 1) * O);
        if (residual) count(head, T - 1, op_class::mac, N * D * O);
        count(head, T - 1, op_class::ac, (net.pooled ? 1 : N) * O);
        r.total = op_counts{};
        for (const auto& st : r.layers) r.total += st.ops;
    }

    // The recency-bonus candidates of query i among keys 0..end-1 (|i - j| within the table, a positive entry).
    std::size_t bonus_pairs_of(std::size_t i, std::size_t end) const {
        const attention_config& a = net.cfg.block.attn;
        std::size_t n = 0;
        for (std::size_t d = 0; d < a.bias_len; ++d) {
            if (a.bias_at(d) <= 0.0f) continue;
            n += i >= d && i - d < end ? 1 : 0;  // j = i - d
            n += d > 0 && i + d < end ? 1 : 0;   // j = i + d
        }
        return n;
    }

    Exec& ex;
    const sim_network& net;
    std::vector<population> pops;  // per block sn1, sn_q, sn_k, sn_v, sn_a, sn2, sn_h; then sn_final
    std::vector<linear> linears;   // per block q, k, v, o, fc1, fc2
    bool residual = false;
    fbuf tok, pos, head_wt, head_b;

private:
    population population_of(neuron_kind kind, const lif_params& l, std::size_t C, const sim_neuron_constants& k,
                             std::string name) {
        const float v0 = kind == neuron_kind::lif && l.reset == reset_mode::hard ? l.v_reset : 0.0f;
        return population{kind, l, C, ex.upload(k.tau), ex.upload(k.v_th), std::move(name), v0};
    }
};

// Batches of whole sequences on the kernels.
template <class Exec>
class kernel_simulator {
    using fbuf = typename Exec::template buffer<float>;
    using ubuf = typename Exec::template buffer<std::uint64_t>;
    using ibuf = typename Exec::template buffer<std::int32_t>;

public:
    kernel_simulator(Exec& ex, const sim_network& net) : ex_(ex), w_(ex, net) {}

    // The results of simulate(net, seq, record, membranes) for every sequence, in order: sequences of one
    // length run as one batch.
    std::vector<sim_result> run(const std::vector<std::vector<std::int32_t>>& sequences, bool record = false,
                                bool membranes = false) {
        std::map<std::size_t, std::vector<std::size_t>> by_length;
        for (std::size_t i = 0; i < sequences.size(); ++i) {
            check_sequence(w_.net.cfg, sequences[i]);
            by_length[sequences[i].size()].push_back(i);
        }
        std::vector<sim_result> out(sequences.size());
        for (const auto& [N, members] : by_length) {
            std::vector<std::int32_t> tokens;
            for (std::size_t i : members) tokens.insert(tokens.end(), sequences[i].begin(), sequences[i].end());
            std::vector<sim_result> part = run_batch(tokens, members.size(), N, record, membranes);
            for (std::size_t b = 0; b < members.size(); ++b) out[members[b]] = std::move(part[b]);
        }
        return out;
    }

private:
    std::vector<sim_result> run_batch(const std::vector<std::int32_t>& token_ids, std::size_t B, std::size_t N,
                                      bool record, bool membranes) {
        const sim_network& net = w_.net;
        const model_config& cfg = net.cfg;
        const block_config& bc = cfg.block;
        const std::size_t D = cfg.D, F = cfg.F, T = cfg.T, H = cfg.H, dh = D / H, O = net.head_outputs, L = cfg.L;
        const std::size_t R = B * N, P = w_.pops.size(), kw = static_cast<std::size_t>(bc.attn.k);
        const bool wta = bc.attn.kind == attention_kind::wta, residual = w_.residual;

        // buffers from the pool: taken in the same order every run, so a warm run allocates nothing; every one
        // is written before it is read (the states and the readout's sum are set here)
        std::size_t taken_f = 0, taken_u = 0;
        auto z = [&](std::size_t n) -> fbuf& { return pooled<float>(fpool_, taken_f, n); };
        auto zu = [&](std::size_t n) -> ubuf& { return pooled<std::uint64_t>(upool_, taken_u, n); };
        const ibuf tokens = ex_.upload(token_ids);
        fbuf& x0 = z(R * D);
        ex_.launch(sim_kernels::embed{x0.data(), tokens.data(), w_.tok.data(), w_.pos.data(), N, D}, R * D);
        std::vector<fbuf*> state;
        for (const auto& p : w_.pops) {  // at rest, set on the device (nothing crosses the bus)
            state.push_back(&z(R * p.C));
            ex_.launch(sim_kernels::fill_values{state.back()->data(), p.v0}, R * p.C);
        }
        fbuf &x = z(R * D), &x1 = z(R * D), &s1 = z(R * D), &s2 = z(R * D), &q = z(R * D), &k = z(R * D), &v = z(R * D),
             &ks = z(bc.attn.shift ? R * D : 0), &vs = z(bc.attn.shift ? R * D : 0), &o = z(R * D), &za = z(R * D),
             &cur = z(R * D), &cur_f = z(R * F), &hs = z(R * F), &scores = z(B * H * N * N),
             &x_sum = z(residual ? R * D : 0), &final_spikes = z(residual ? 0 : T * R * D),
             &membrane = z(membranes ? R * std::max(D, F) : 0);
        if (residual) ex_.launch(sim_kernels::fill_values{x_sum.data(), 0.0f}, R * D);
        // tallies: [T, P, {events, active}, R] per row, [L, T, B, H, N] per attention query
        ubuf& pop_rows = zu(T * P * 2 * R);
        ubuf& attn_rows = zu(L * T * B * H * N);
        if (winners_.size() < (wta ? L * T * B * H * N * kw : 0))
            winners_ = ex_.template zeros<std::int32_t>(L * T * B * H * N * kw);
        ibuf& winners = winners_;
        auto pop_slot = [&](std::size_t t, std::size_t p, std::size_t which) {
            return pop_rows.data() + ((t * P + p) * 2 + which) * R;
        };
        std::vector<std::vector<float>> spikes_seen, membranes_seen;  // with a trace: per step and population
        sim_kernels::attend att = w_.attention(sim_kernels::query_rows{B, N, N, 0, H, dh});
        att.o = o.data();
        att.scores = scores.data();

        for (std::size_t t = 0; t < T; ++t) {
            ex_.launch(sim_kernels::copy_values{x.data(), x0.data()}, R * D);
            auto run_pop = [&](std::size_t p, fbuf& s, const fbuf& in) {
                w_.step(w_.pops[p], state[p]->data(), s.data(), in.data(), R, pop_slot(t, p, 0), pop_slot(t, p, 1),
                        membranes ? membrane.data() : nullptr);
                if (record) {
                    spikes_seen.push_back(ex_.download(s, R * w_.pops[p].C));
                    if (membranes) membranes_seen.push_back(ex_.download(membrane, R * w_.pops[p].C));
                }
            };
            for (std::size_t l = 0; l < L; ++l) {
                const std::size_t p0 = 7 * l;
                const auto* w = &w_.linears[6 * l];
                run_pop(p0 + 0, s1, x);
                w_.apply(cur.data(), s1.data(), w[0], R);
                run_pop(p0 + 1, q, cur);
                w_.apply(cur.data(), s1.data(), w[1], R);
                run_pop(p0 + 2, k, cur);
                w_.apply(cur.data(), s1.data(), w[2], R);
                run_pop(p0 + 3, v, cur);
                if (bc.attn.shift) {
                    ex_.launch(sim_kernels::token_shift{ks.data(), k.data(), D, N}, R * D);
                    ex_.launch(sim_kernels::token_shift{vs.data(), v.data(), D, N}, R * D);
                }
                const fbuf& keys = bc.attn.shift ? ks : k;
                att.v = bc.attn.shift ? vs.data() : v.data();
                ex_.launch(sim_kernels::coincidences{scores.data(), q.data(), keys.data(), att.d, bc.attn.causal},
                           B * H * N * N);
                att.tally = attn_rows.data() + (l * T + t) * B * H * N;
                att.winners = wta ? winners.data() + (l * T + t) * B * H * N * kw : nullptr;
                ex_.launch(att, B * H * N);
                run_pop(p0 + 4, za, o);
                w_.apply(cur.data(), za.data(), w[3], R);
                ex_.launch(sim_kernels::add{x1.data(), x.data(), cur.data()}, R * D);
                run_pop(p0 + 5, s2, x1);
                w_.apply(cur_f.data(), s2.data(), w[4], R);
                run_pop(p0 + 6, hs, cur_f);
                w_.apply(cur.data(), hs.data(), w[5], R);
                ex_.launch(sim_kernels::add{x.data(), x1.data(), cur.data()}, R * D);
            }
            if (residual) {
                ex_.launch(sim_kernels::accumulate{x_sum.data(), x.data()}, R * D);
            } else {
                run_pop(P - 1, s1, x);  // s1 is free until the next step
                ex_.launch(sim_kernels::copy_values{final_spikes.data() + t * R * D, s1.data()}, R * D);
            }
        }
        const std::size_t rows_out = net.pooled ? B : R;
        fbuf& logits = z(rows_out * O);
        ex_.launch(sim_kernels::lm_head{logits.data(), residual ? x_sum.data() : nullptr,
                                        residual ? nullptr : final_spikes.data(), w_.head_wt.data(), w_.head_b.data(),
                                        R, D, O, T, net.pooled, N},
                   rows_out * O);
        // per-sequence sums of the tallies, then the one transfer out
        ubuf& pop_sums = zu(T * P * 2 * B);
        ubuf& attn_sums = zu(L * T * B);
        ex_.launch(sim_kernels::sum_groups{pop_sums.data(), pop_rows.data(), N}, T * P * 2 * B);
        ex_.launch(sim_kernels::sum_groups{attn_sums.data(), attn_rows.data(), H * N}, L * T * B);
        const std::vector<float> all_logits = ex_.download(logits, rows_out * O);
        const std::vector<std::uint64_t> pop_tally = ex_.download(pop_sums, T * P * 2 * B),
                                         attn_tally = ex_.download(attn_sums, L * T * B);
        const std::vector<std::int32_t> all_winners = ex_.download(winners, wta ? L * T * B * H * N * kw : 0);

        const std::size_t pairs = bc.attn.causal ? N * (N + 1) / 2 : N * N;
        std::size_t bonus_pairs = 0;
        for (std::size_t i = 0; i < N; ++i) bonus_pairs += w_.bonus_pairs_of(i, bc.attn.causal ? i + 1 : N);
        std::vector<sim_result> out(B);
        for (std::size_t b = 0; b < B; ++b) {
            auto pop_at = [&](std::size_t t, std::size_t p, std::size_t which) {
                return pop_tally[((t * P + p) * 2 + which) * B + b];
            };
            sim_result& r = out[b];
            w_.assemble_counts(
                r, N, pairs, bonus_pairs, [&](std::size_t t, std::size_t p) { return pop_at(t, p, 0); },
                [&](std::size_t t, std::size_t p) { return pop_at(t, p, 1); },
                [&](std::size_t l, std::size_t t) { return attn_tally[(l * T + t) * B + b]; });
            const std::size_t per = rows_out / B * O;
            r.logits.assign(all_logits.begin() + static_cast<std::ptrdiff_t>(b * per),
                            all_logits.begin() + static_cast<std::ptrdiff_t>((b + 1) * per));
            if (wta) {
                r.winners.resize(L * T * H * N * kw);
                for (std::size_t lt = 0; lt < L * T; ++lt)
                    std::copy_n(all_winners.begin() + static_cast<std::ptrdiff_t>(((lt * B + b) * H) * N * kw),
                                H * N * kw, r.winners.begin() + static_cast<std::ptrdiff_t>(lt * H * N * kw));
            }
            if (record) record_events(r, spikes_seen, membranes_seen, b, N);
        }
        return out;
    }

    // The events (and membranes) of sequence b from the spikes seen after every population step.
    void record_events(sim_result& r, const std::vector<std::vector<float>>& spikes,
                       const std::vector<std::vector<float>>& mems, std::size_t b, std::size_t N) const {
        const std::size_t P = w_.pops.size();
        r.spikes.clear();
        for (const auto& p : w_.pops) r.spikes.push_back({p.name, p.C, {}, {}, {}, {}});
        for (std::size_t t = 0; t < w_.net.cfg.T; ++t)
            for (std::size_t p = 0; p < P; ++p) {
                layer_events& e = r.spikes[p];
                const std::size_t C = w_.pops[p].C;
                const float* s = spikes[t * P + p].data() + b * N * C;
                for (std::size_t n = 0; n < N; ++n)
                    for (std::size_t c = 0; c < C; ++c) {
                        const float val = s[n * C + c];
                        if (val == 0.0f) continue;
                        const auto m = static_cast<std::uint64_t>(std::llround(val * w_.levels_of(w_.pops[p])));
                        for (std::uint64_t i = 0; i < m; ++i) {
                            e.step.push_back(static_cast<std::uint32_t>(t));
                            e.token.push_back(static_cast<std::uint32_t>(n));
                            e.neuron.push_back(static_cast<std::uint32_t>(c));
                        }
                    }
                if (!mems.empty()) {
                    const float* m = mems[t * P + p].data() + b * N * C;
                    e.membrane.insert(e.membrane.end(), m, m + N * C);
                }
            }
    }

    // The `taken`-th buffer of `pool`, of at least n elements (grown when smaller; its contents are left).
    template <class T, class Pool>
    auto& pooled(Pool& pool, std::size_t& taken, std::size_t n) {
        if (taken == pool.size()) pool.push_back(ex_.template zeros<T>(n));
        if (pool[taken].size() < n) pool[taken] = ex_.template zeros<T>(n);
        return pool[taken++];
    }

    Exec& ex_;
    kernel_network<Exec> w_;
    std::deque<fbuf> fpool_;  // a deque: references to its buffers stay valid as it grows
    std::deque<ubuf> upool_;
    ibuf winners_;
};

}  // namespace wtasim
