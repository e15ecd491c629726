// Streaming decoder (sim/stream.hpp).
#include "sim/stream.hpp"

#include <algorithm>
#include <cmath>

#include "attention/head_kernels.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "sim/detail.hpp"

namespace wtasim {
using namespace sim_detail;

void check_streamable(const sim_network& net) {
    if (!net.cfg.causal)
        throw config_error("stream: the model is bidirectional (causal = false); streaming needs a WD (causal) model");
    if (net.task_head)
        throw config_error("stream: the checkpoint is fine-tuned for task \"" + net.cfg.task +
                           "\"; streaming generation needs the LM head of a pretrained WD model");
}

void check_stream_token(const model_config& cfg, std::size_t position, std::int32_t token) {
    if (position >= cfg.max_len)
        throw config_error("stream: position " + std::to_string(position) +
                           " is past max_len = " + std::to_string(cfg.max_len));
    if (token < 0 || static_cast<std::size_t>(token) >= cfg.vocab)
        throw config_error("stream: token id " + std::to_string(token) + " outside the vocabulary [0, " +
                           std::to_string(cfg.vocab) + ")");
}

stream_decoder::stream_decoder(const sim_network& net, const std::string& backend) : net_(net) {
    kernels_ = kernel_decoder_for(net, sim_backend_named(backend).schedule);  // refuses WE models itself
    if (kernels_) return;
    check_streamable(net);
    const std::size_t slots = net.cfg.L * net.cfg.T * net.cfg.max_len * net.cfg.D;
    k_cache_.assign(slots, 0.0f);
    v_cache_.assign(slots, 0.0f);
    if (net.cfg.block.attn.shift) {
        k_last_.assign(net.cfg.L * net.cfg.T * net.cfg.D, 0.0f);
        v_last_.assign(net.cfg.L * net.cfg.T * net.cfg.D, 0.0f);
    }
}

stream_decoder::~stream_decoder() = default;
stream_decoder::stream_decoder(stream_decoder&&) noexcept = default;

std::vector<float> stream_decoder::push(std::int32_t token, op_counts* ops) {
    if (kernels_) {
        std::vector<float> logits = kernels_->push(token, ops);
        ++n_;
        return logits;
    }
    const model_config& cfg = net_.cfg;
    const std::size_t D = cfg.D, F = cfg.F, V = cfg.vocab, T = cfg.T, H = cfg.H, dh = D / H, n = n_;
    check_stream_token(cfg, n, token);
    const block_config& bc = cfg.block;
    const lif_params attn_lif = attention_output_neuron(bc);
    layer_stats st{"token", {}, 0, 0, 0};  // one tally for the whole token
    auto make = [&](neuron_kind kind, const lif_params& lp, std::size_t C) {
        population p{kind, lp, bc.nilif, C, {}, &st};
        p.reset(1);
        return p;
    };
    struct block_pops {
        population sn1, nq, nk, nv, na, sn2, snh;
    };
    std::vector<block_pops> pops;
    for (std::size_t l = 0; l < cfg.L; ++l) {
        pops.push_back({make(bc.neuron, bc.lif, D), make(neuron_kind::lif, qk_neuron(bc), D),
                        make(neuron_kind::lif, qk_neuron(bc), D), make(neuron_kind::lif, bc.lif, D),
                        make(neuron_kind::lif, attn_lif, D), make(bc.neuron, bc.lif, D), make(bc.neuron, bc.lif, F)});
        block_pops& b = pops.back();
        std::size_t r = 0;  // the learned constants, in neuron_role order
        for (population* pop : {&b.sn1, &b.nq, &b.nk, &b.nv, &b.na, &b.sn2, &b.snh})
            pop->learned(net_.blocks[l].neurons[r++]);
    }
    const bool residual = cfg.readout == "residual";  // the readout, docs/model.md §10
    const neuron_kind final_kind = cfg.readout == "levels" ? neuron_kind::nilif : bc.neuron;
    population final_sn = make(final_kind, bc.lif, D);
    final_sn.learned(net_.final_neuron);
    const int final_lv = final_kind == neuron_kind::nilif ? bc.nilif.levels : 1;
    std::vector<float> x_sum(residual ? D : 0, 0.0f);

    std::vector<float> x0(D);
    for (std::size_t c = 0; c < D; ++c) x0[c] = net_.tok[static_cast<std::size_t>(token) * D + c] + net_.pos[n * D + c];
    st.ops.add(op_class::ac, D);
    const int lv = bc.neuron == neuron_kind::nilif ? bc.nilif.levels : 1;
    const std::size_t kw = static_cast<std::size_t>(bc.attn.k);
    std::vector<float> x(D), s1(D), cur(std::max(D, F)), q(D), k(D), v(D), z(D), x1(D), s2(D), hs(F), sf(D),
        head_acc(V, 0.0f);
    std::vector<float> q_rows((n + 1) * D), o_rows((n + 1) * D);
    std::vector<std::int32_t> winners(H * (n + 1) * kw, -1);
    events ev, evq, evk, evv;
    for (std::size_t t = 0; t < T; ++t) {
        x = x0;
        for (std::size_t l = 0; l < cfg.L; ++l) {
            block_pops& b = pops[l];
            const sim_block& w = net_.blocks[l];
            float* kc = k_cache_.data() + (l * T + t) * cfg.max_len * D;
            float* vc = v_cache_.data() + (l * T + t) * cfg.max_len * D;
            b.sn1.step(s1.data(), ev, x.data(), 1);
            linear_from_events(cur.data(), ev, w.q, 1, lv, st);
            b.nq.step(q.data(), evq, cur.data(), 1);
            linear_from_events(cur.data(), ev, w.k, 1, lv, st);
            b.nk.step(kc + n * D, evk, cur.data(), 1);
            linear_from_events(cur.data(), ev, w.v, 1, lv, st);
            b.nv.step(vc + n * D, evv, cur.data(), 1);
            if (bc.attn.shift) {  // this position offers its own spikes and the previous position's
                float* kl = k_last_.data() + (l * T + t) * D;
                float* vl = v_last_.data() + (l * T + t) * D;
                for (std::size_t c = 0; c < D; ++c) {
                    const float k_own = kc[n * D + c], v_own = vc[n * D + c];
                    if (n > 0) {
                        kc[n * D + c] = k_own + kl[c] - k_own * kl[c];
                        vc[n * D + c] = v_own + vl[c] - v_own * vl[c];
                    }
                    kl[c] = k_own;
                    vl[c] = v_own;
                }
            }
            // the newest query against the cached keys and values of positions 0..n
            std::copy(q.begin(), q.end(), q_rows.begin() + static_cast<std::ptrdiff_t>(n * D));
            const attention_dims dims{seq_shape{1, 1, n + 1}, H, dh, nullptr};
            for (std::size_t h = 0; h < H; ++h) {
                const detail::head_view hv{&dims, 0, 0, h};
                detail::head_forward(o_rows.data(), bc.attn.kind == attention_kind::wta ? winners.data() : nullptr, vc,
                                     hv, bc.attn, detail::dot_score{q_rows.data(), kc, hv}, n);
            }
            st.ops += attention_counts(q_rows.data(), kc, vc, winners.data(), dims, bc.attn, n);
            b.na.step(z.data(), ev, o_rows.data() + n * D, 1);
            linear_from_events(cur.data(), ev, w.o, 1, 1, st);
            for (std::size_t i = 0; i < D; ++i) x1[i] = x[i] + cur[i];
            b.sn2.step(s2.data(), ev, x1.data(), 1);
            linear_from_events(cur.data(), ev, w.fc1, 1, lv, st);
            b.snh.step(hs.data(), ev, cur.data(), 1);
            linear_from_events(cur.data(), ev, w.fc2, 1, lv, st);
            for (std::size_t i = 0; i < D; ++i) x[i] = x1[i] + cur[i];
            st.ops.add(op_class::ac, 2 * D);
        }
        if (residual) {
            for (std::size_t i = 0; i < D; ++i) x_sum[i] += x[i];
            st.ops.add(op_class::ac, D);
            continue;
        }
        final_sn.step(sf.data(), ev, x.data(), 1);
        add_rows(head_acc.data(), V, ev.token.size(), [&](std::size_t e) {
            return scaled_row{net_.head_wt.data() + ev.neuron[e] * V, ev.value[e]};
        });
        for (float val : ev.value)
            st.ops.add(op_class::ac, static_cast<std::uint64_t>(std::llround(val * static_cast<float>(final_lv))) * V);
    }
    if (residual) {  // as sim/engine.cpp: D x V MAC on sum_t X
        add_rows(head_acc.data(), V, D, [&](std::size_t c) {
            return scaled_row{net_.head_wt.data() + c * V, x_sum[c]};
        });
        st.ops.add(op_class::mac, D * V);
    }
    std::vector<float> logits(V);
    for (std::size_t u = 0; u < V; ++u) logits[u] = head_acc[u] / static_cast<float>(T) + net_.head_b[u];
    st.ops.add(op_class::ac, V);
    ++n_;
    if (ops) *ops = st.ops;
    return logits;
}

std::int32_t sample_token(const std::vector<float>& logits, double temperature, std::size_t top_k, std::uint64_t seed,
                          std::uint64_t step) {
    std::vector<std::pair<float, std::int32_t>> ranked;
    for (std::size_t v = 0; v < logits.size(); ++v) ranked.push_back({logits[v], static_cast<std::int32_t>(v)});
    std::stable_sort(ranked.begin(), ranked.end(), [](auto a, auto b) { return a.first > b.first; });
    if (temperature <= 0.0 || top_k == 1) return ranked[0].second;
    if (top_k > 0 && top_k < ranked.size()) ranked.resize(top_k);
    std::vector<double> p(ranked.size());
    double sum = 0;
    for (std::size_t i = 0; i < ranked.size(); ++i)
        sum += p[i] = std::exp((ranked[i].first - ranked[0].first) / temperature);
    double u = counter_rng(seed).uniform(0, step) * sum;
    for (std::size_t i = 0; i < ranked.size(); ++i) {
        if (u < p[i]) return ranked[i].second;
        u -= p[i];
    }
    return ranked.back().second;
}

}  // namespace wtasim
