// Streaming generation (sim/stream.hpp's contract) on the kernel bodies, for any executor of
// sim/kernel_engine.hpp: the K and V spikes every position offers stay in the executor's buffers (per block
// and step, [max_len, D]), so a pushed token moves its id in and its logits and counts out, nothing else. Each
// token runs its T steps on one row; its attention query reads the cached keys 0..n (coincidences and attend
// with one query at position n). A causal model's tokens depend only on earlier ones, so the logits equal the
// kernel engine's full-sequence rows (and the CPU stream's) bit for bit; tests/sim/test_kernels.cpp holds
// both with the emulated launcher, test_kernel_engine_cuda.cpp on a GPU.
#pragma once

#include <cstdint>
#include <vector>

#include "core/error.hpp"
#include "sim/kernel_engine.hpp"
#include "sim/stream.hpp"

namespace wtasim {

template <class Exec>
class kernel_stream {
    using fbuf = typename Exec::template buffer<float>;
    using ubuf = typename Exec::template buffer<std::uint64_t>;
    using ibuf = typename Exec::template buffer<std::int32_t>;

public:
    kernel_stream(Exec& ex, const sim_network& net) : ex_(ex), w_(ex, net) {
        const model_config& cfg = net.cfg;
        check_streamable(net);
        const std::size_t D = cfg.D, F = cfg.F, T = cfg.T, H = cfg.H, L = cfg.L, P = w_.pops.size();
        const bool shift = cfg.block.attn.shift;
        k_cache_ = zeros(L * T * cfg.max_len * D);
        v_cache_ = zeros(L * T * cfg.max_len * D);
        k_last_ = zeros(shift ? L * T * D : 0);
        v_last_ = zeros(shift ? L * T * D : 0);
        for (const auto& p : w_.pops) state_.push_back(zeros(p.C));
        x0_ = zeros(D), x_ = zeros(D), x1_ = zeros(D), s1_ = zeros(D), s2_ = zeros(D), q_ = zeros(D), o_ = zeros(D),
        za_ = zeros(D), cur_ = zeros(D), cur_f_ = zeros(F), hs_ = zeros(F), scores_ = zeros(H * cfg.max_len),
        x_sum_ = zeros(w_.residual ? D : 0), final_spikes_ = zeros(w_.residual ? 0 : T * D),
        logits_ = zeros(net.head_outputs);
        pop_rows_ = ex_.template zeros<std::uint64_t>(T * P * 2);
        attn_rows_ = ex_.template zeros<std::uint64_t>(L * T * H);
        attn_sums_ = ex_.template zeros<std::uint64_t>(L * T);
        winners_ = ex_.template zeros<std::int32_t>(
            cfg.block.attn.kind == attention_kind::wta ? H * static_cast<std::size_t>(cfg.block.attn.k) : 0);
    }

    // Feeds the token at the next position; returns its logits [V]; `ops` receives what this token cost.
    std::vector<float> push(std::int32_t token, op_counts* ops = nullptr) {
        const sim_network& net = w_.net;
        const model_config& cfg = net.cfg;
        const block_config& bc = cfg.block;
        const std::size_t D = cfg.D, T = cfg.T, H = cfg.H, dh = D / H, L = cfg.L, V = cfg.vocab, n = n_,
                          P = w_.pops.size();
        check_stream_token(cfg, n, token);
        const ibuf id = ex_.upload(std::vector<std::int32_t>{token});
        ex_.launch(sim_kernels::embed{x0_.data(), id.data(), w_.tok.data(), w_.pos.data(), 1, D, n}, D);
        for (std::size_t p = 0; p < P; ++p)  // a token's neurons start from rest
            ex_.launch(sim_kernels::fill_values{state_[p].data(), w_.pops[p].v0}, w_.pops[p].C);
        if (w_.residual) ex_.launch(sim_kernels::fill_values{x_sum_.data(), 0.0f}, D);
        sim_kernels::attend att = w_.attention(sim_kernels::query_rows{1, n + 1, 1, n, H, dh});
        att.o = o_.data();
        att.scores = scores_.data();
        att.winners = winners_.size() ? winners_.data() : nullptr;
        for (std::size_t t = 0; t < T; ++t) {
            ex_.launch(sim_kernels::copy_values{x_.data(), x0_.data()}, D);
            auto run_pop = [&](std::size_t p, float* s, const float* in) {
                std::uint64_t* slot = pop_rows_.data() + (t * P + p) * 2;
                w_.step(w_.pops[p], state_[p].data(), s, in, 1, slot, slot + 1, nullptr);
            };
            for (std::size_t l = 0; l < L; ++l) {
                const std::size_t p0 = 7 * l;
                const auto* w = &w_.linears[6 * l];
                float* kc = k_cache_.data() + (l * T + t) * cfg.max_len * D;
                float* vc = v_cache_.data() + (l * T + t) * cfg.max_len * D;
                run_pop(p0 + 0, s1_.data(), x_.data());
                w_.apply(cur_.data(), s1_.data(), w[0], 1);
                run_pop(p0 + 1, q_.data(), cur_.data());
                w_.apply(cur_.data(), s1_.data(), w[1], 1);
                run_pop(p0 + 2, kc + n * D, cur_.data());
                w_.apply(cur_.data(), s1_.data(), w[2], 1);
                run_pop(p0 + 3, vc + n * D, cur_.data());
                if (bc.attn.shift) {  // this position offers its own spikes and the previous position's
                    ex_.launch(sim_kernels::shift_last{kc + n * D, k_last_.data() + (l * T + t) * D, n > 0}, D);
                    ex_.launch(sim_kernels::shift_last{vc + n * D, v_last_.data() + (l * T + t) * D, n > 0}, D);
                }
                ex_.launch(sim_kernels::coincidences{scores_.data(), q_.data(), kc, att.d, true}, H * (n + 1));
                att.v = vc;
                att.tally = attn_rows_.data() + (l * T + t) * H;
                ex_.launch(att, H);
                run_pop(p0 + 4, za_.data(), o_.data());
                w_.apply(cur_.data(), za_.data(), w[3], 1);
                ex_.launch(sim_kernels::add{x1_.data(), x_.data(), cur_.data()}, D);
                run_pop(p0 + 5, s2_.data(), x1_.data());
                w_.apply(cur_f_.data(), s2_.data(), w[4], 1);
                run_pop(p0 + 6, hs_.data(), cur_f_.data());
                w_.apply(cur_.data(), hs_.data(), w[5], 1);
                ex_.launch(sim_kernels::add{x_.data(), x1_.data(), cur_.data()}, D);
            }
            if (w_.residual) {
                ex_.launch(sim_kernels::accumulate{x_sum_.data(), x_.data()}, D);
            } else {
                run_pop(P - 1, final_spikes_.data() + t * D, x_.data());
            }
        }
        ex_.launch(sim_kernels::lm_head{logits_.data(), w_.residual ? x_sum_.data() : nullptr,
                                        w_.residual ? nullptr : final_spikes_.data(), w_.head_wt.data(),
                                        w_.head_b.data(), 1, D, V, T},
                   V);
        ex_.launch(sim_kernels::sum_groups{attn_sums_.data(), attn_rows_.data(), H}, L * T);
        std::vector<float> logits = ex_.download(logits_);
        if (ops) {
            const std::vector<std::uint64_t> pops = ex_.download(pop_rows_), attn = ex_.download(attn_sums_);
            sim_result r;
            w_.assemble_counts(
                r, 1, n + 1, w_.bonus_pairs_of(n, n + 1),
                [&](std::size_t t, std::size_t p) { return pops[(t * P + p) * 2]; },
                [&](std::size_t t, std::size_t p) { return pops[(t * P + p) * 2 + 1]; },
                [&](std::size_t l, std::size_t t) { return attn[l * T + t]; });
            *ops = r.total;
        }
        ++n_;
        return logits;
    }
    std::size_t length() const { return n_; }

private:
    fbuf zeros(std::size_t n) { return ex_.template zeros<float>(n); }

    Exec& ex_;
    kernel_network<Exec> w_;
    std::size_t n_ = 0;
    fbuf k_cache_, v_cache_, k_last_, v_last_;  // [L][T][max_len][D], [L][T][D]
    std::vector<fbuf> state_;                   // per population
    fbuf x0_, x_, x1_, s1_, s2_, q_, o_, za_, cur_, cur_f_, hs_, scores_, x_sum_, final_spikes_, logits_;
    ubuf pop_rows_, attn_rows_, attn_sums_;
    ibuf winners_;
};

}  // namespace wtasim
