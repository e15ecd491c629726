// The engine's step loop (sim/engine.cpp, docs/simulator.md) on the kernel bodies of sim/kernels.hpp, for any
// executor that holds buffers and launches bodies: host_executor below runs them through the emulated launcher,
// so the whole loop that the CUDA backend will run is tested on every machine against the CPU engine (logits
// and every population's events bit for bit, tests/sim/test_kernels.cpp). What it covers so far: WSSA / CWSSA
// (k-WTA, the token shift, the recency bonus and fill), LIF and NI-LIF blocks, learned per-channel constants,
// and the three readouts of the LM head; SSA, softmax, task heads and the operation counts are still the CPU
// engine's alone.
//
// An executor provides  buffer<T> upload(const std::vector<T>&),  std::vector<T> download(const buffer<T>&),
// buffer<T> zeros<T>(n),  and  launch(body, n);  a buffer's data() is what the bodies receive and its size()
// its length. sim/cuda/executor.hpp is the GPU's.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/launch.hpp"
#include "sim/kernels.hpp"
#include "sim/network.hpp"

namespace wtasim {

struct kernel_run {
    std::vector<float> logits;                                  // [N, V]
    std::vector<std::pair<std::string, std::uint64_t>> events;  // per neuron layer, the engine's names and order
};

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
    buffer<T> zeros(std::size_t n) const {
        return buffer<T>(n, T{});
    }
    template <class Body>
    void launch(const Body& body, std::size_t n) const {
        emulate_launch(n, body);
    }
};

template <class Exec>
kernel_run simulate_with(Exec& ex, const sim_network& net, const std::vector<std::int32_t>& tokens) {
    using fbuf = typename Exec::template buffer<float>;
    using ubuf = typename Exec::template buffer<std::uint64_t>;
    const model_config& cfg = net.cfg;
    const block_config& bc = cfg.block;
    const std::size_t N = tokens.size(), D = cfg.D, F = cfg.F, T = cfg.T, H = cfg.H, dh = D / H, O = net.head_outputs;
    if (N == 0 || N > cfg.max_len)
        throw config_error("kernel engine: " + std::to_string(N) +
                           " tokens, expected 1 to max_len = " + std::to_string(cfg.max_len));
    if (bc.attn.kind != attention_kind::wta)
        throw config_error("kernel engine: only WTA attention runs on the kernels so far");
    if (net.task_head) throw config_error("kernel engine: task heads are not on the kernels yet");
    if (bc.attn.k > sim_kernels::wta_select::max_k || bc.attn.bias_len > sim_kernels::wta_select::max_bias)
        throw config_error("kernel engine: k or the recency table is larger than the kernels hold");
    for (auto t : tokens)
        if (t < 0 || static_cast<std::size_t>(t) >= cfg.vocab)
            throw config_error("kernel engine: token id " + std::to_string(t) + " outside the vocabulary");

    // a population: its state, its constants and the events it has emitted
    struct pop {
        neuron_kind kind;
        lif_params lif;
        std::size_t C;
        fbuf state, tau, v_th;
        ubuf counts;
        std::string name;
        std::uint64_t events = 0;
    };
    auto make_pop = [&](neuron_kind kind, const lif_params& lif, std::size_t C, const sim_neuron_constants& k,
                        std::string name) {
        const float v0 = kind == neuron_kind::lif && lif.reset == reset_mode::hard ? lif.v_reset : 0.0f;
        return pop{kind,
                   lif,
                   C,
                   ex.upload(std::vector<float>(N * C, v0)),
                   ex.upload(k.tau),
                   ex.upload(k.v_th),
                   ex.template zeros<std::uint64_t>(N),
                   std::move(name)};
    };
    auto step = [&](pop& p, fbuf& s, const fbuf& x) {
        if (p.kind == neuron_kind::nilif) {
            ex.launch(sim_kernels::nilif_population{p.state.data(), s.data(), x.data(), nilif_coeffs_of(bc.nilif)},
                      N * p.C);
        } else {
            ex.launch(sim_kernels::lif_population{p.state.data(), s.data(), x.data(), lif_coeffs_of(p.lif),
                                                  p.tau.size() ? p.tau.data() : nullptr,
                                                  p.v_th.size() ? p.v_th.data() : nullptr, p.C},
                      N * p.C);
        }
        const float levels = p.kind == neuron_kind::nilif ? static_cast<float>(bc.nilif.levels) : 1.0f;
        ex.launch(sim_kernels::row_event_count{p.counts.data(), s.data(), p.C, levels}, N);
        for (auto c : ex.download(p.counts)) p.events += c;
    };
    struct linear {
        fbuf wt, bias;
        std::size_t in, out;
    };
    auto upload_linear = [&](const folded_linear& f) {
        return linear{ex.upload(f.wt), ex.upload(f.bias), f.in, f.out};
    };
    auto apply = [&](fbuf& y, const fbuf& s, const linear& f) {
        ex.launch(sim_kernels::spike_linear{y.data(), s.data(), f.wt.data(), f.bias.data(), f.in, f.out}, N * f.out);
    };

    struct block {
        pop sn1, nq, nk, nv, na, sn2, snh;
        linear q, k, v, o, fc1, fc2;
    };
    std::vector<block> blocks;
    const lif_params attn_lif = attention_output_neuron(bc);
    for (std::size_t l = 0; l < cfg.L; ++l) {
        const sim_block& w = net.blocks[l];
        const std::string p = "blocks." + std::to_string(l) + ".";
        blocks.push_back(block{make_pop(bc.neuron, bc.lif, D, w.neurons[0], p + "sn1"),
                               make_pop(neuron_kind::lif, qk_neuron(bc), D, w.neurons[1], p + "attn.sn_q"),
                               make_pop(neuron_kind::lif, qk_neuron(bc), D, w.neurons[2], p + "attn.sn_k"),
                               make_pop(neuron_kind::lif, bc.lif, D, w.neurons[3], p + "attn.sn_v"),
                               make_pop(neuron_kind::lif, attn_lif, D, w.neurons[4], p + "attn.sn_a"),
                               make_pop(bc.neuron, bc.lif, D, w.neurons[5], p + "sn2"),
                               make_pop(bc.neuron, bc.lif, F, w.neurons[6], p + "mlp.sn_h"), upload_linear(w.q),
                               upload_linear(w.k), upload_linear(w.v), upload_linear(w.o), upload_linear(w.fc1),
                               upload_linear(w.fc2)});
    }
    const bool residual = cfg.readout == "residual";
    const neuron_kind final_kind = cfg.readout == "levels" ? neuron_kind::nilif : bc.neuron;
    pop final_sn = make_pop(final_kind, bc.lif, D, net.final_neuron, "sn_final");

    // X0 = E[token] + P[n], once per token as in the engine
    std::vector<float> x0_host(N * D);
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t c = 0; c < D; ++c)
            x0_host[n * D + c] = net.tok[static_cast<std::size_t>(tokens[n]) * D + c] + net.pos[n * D + c];
    const fbuf x0 = ex.upload(x0_host);
    fbuf x = ex.template zeros<float>(N * D), x1 = ex.template zeros<float>(N * D),
         s1 = ex.template zeros<float>(N * D), s2 = ex.template zeros<float>(N * D),
         q = ex.template zeros<float>(N * D), k = ex.template zeros<float>(N * D), v = ex.template zeros<float>(N * D),
         ks = ex.template zeros<float>(N * D), vs = ex.template zeros<float>(N * D),
         o = ex.template zeros<float>(N * D), z = ex.template zeros<float>(N * D),
         cur = ex.template zeros<float>(N * D), cur_f = ex.template zeros<float>(N * F),
         hs = ex.template zeros<float>(N * F), scores = ex.template zeros<float>(H * N * N),
         x_sum = ex.template zeros<float>(N * D), final_spikes = ex.template zeros<float>(T * N * D),
         sf = ex.template zeros<float>(N * D);
    sim_kernels::wta_select select{o.data(), nullptr, scores.data(), nullptr,        N,
                                   H,        dh,      bc.attn.k,     bc.attn.causal, bc.attn.fill};
    for (std::size_t d = 0; d < bc.attn.bias_len; ++d) select.bias[d] = bc.attn.bias[d];
    select.bias_len = bc.attn.bias_len;

    for (std::size_t t = 0; t < T; ++t) {
        ex.launch(sim_kernels::copy_values{x.data(), x0.data()}, N * D);
        for (block& b : blocks) {
            step(b.sn1, s1, x);
            apply(cur, s1, b.q);
            step(b.nq, q, cur);
            apply(cur, s1, b.k);
            step(b.nk, k, cur);
            apply(cur, s1, b.v);
            step(b.nv, v, cur);
            if (bc.attn.shift) {
                ex.launch(sim_kernels::token_shift{ks.data(), k.data(), D}, N * D);
                ex.launch(sim_kernels::token_shift{vs.data(), v.data(), D}, N * D);
            }
            const fbuf& keys = bc.attn.shift ? ks : k;
            const fbuf& values = bc.attn.shift ? vs : v;
            ex.launch(sim_kernels::coincidences{scores.data(), q.data(), keys.data(), N, H, dh, bc.attn.causal},
                      H * N * N);
            select.v = values.data();
            ex.launch(select, H * N);
            step(b.na, z, o);
            apply(cur, z, b.o);
            ex.launch(sim_kernels::add{x1.data(), x.data(), cur.data()}, N * D);
            step(b.sn2, s2, x1);
            apply(cur_f, s2, b.fc1);
            step(b.snh, hs, cur_f);
            apply(cur, hs, b.fc2);
            ex.launch(sim_kernels::add{x.data(), x1.data(), cur.data()}, N * D);
        }
        if (residual) {
            ex.launch(sim_kernels::accumulate{x_sum.data(), x.data()}, N * D);
        } else {
            step(final_sn, sf, x);
            ex.launch(sim_kernels::copy_values{final_spikes.data() + t * N * D, sf.data()}, N * D);
        }
    }
    const fbuf head_wt = ex.upload(net.head_wt), head_b = ex.upload(net.head_b);
    fbuf logits = ex.template zeros<float>(N * O);
    ex.launch(sim_kernels::lm_head{logits.data(), residual ? x_sum.data() : nullptr,
                                   residual ? nullptr : final_spikes.data(), head_wt.data(), head_b.data(), N, D, O, T},
              N * O);
    kernel_run r;
    r.logits = ex.download(logits);
    for (block& b : blocks)
        for (pop* p : {&b.sn1, &b.nq, &b.nk, &b.nv, &b.na, &b.sn2, &b.snh}) r.events.emplace_back(p->name, p->events);
    if (!residual) r.events.emplace_back(final_sn.name, final_sn.events);
    return r;
}

}  // namespace wtasim
