// Internal to sim/: what both host engines keep per sequence (the step-major reference in engine.cpp, the
// layer-major cpu engine in layer_major.cpp): the result with its layer table in running order, the neuron
// populations that write into it, and the attention step on one step's Q and K events. Shared so that the
// two engines cannot drift apart in layer names, neuron constants or score arithmetic.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/detail.hpp"

namespace wtasim::sim_detail {

struct block_state {
    population sn1, nq, nk, nv, na, sn2, snh;
    layer_stats *lq, *lk, *lv, *lo, *l1, *l2, *attn, *residual;
};

// One sequence of N tokens: r.layers holds embed, every block's layers, sn_final (unless the readout is
// "residual") and head, in that order; the populations point into it (and into r.spikes when recording), so
// the state stays where it was built (no copy, no move) until r is taken out.
struct sequence_state {
    sim_result r;
    std::vector<block_state> blocks;
    population final_sn;
    std::vector<population*> populations;  // the blocks' in neuron_role order, then final_sn (the order of r.spikes)
    layer_stats* embed = nullptr;
    layer_stats* head = nullptr;
    bool residual = false;   // readout "residual": the head reads sum_t X
    neuron_kind final_kind;  // of final_sn
    std::vector<float> x0;   // [N, D] E[token] + P[n] (counted once, in embed)

    // states false: the populations' membranes are left unallocated (the cpu engine allocates those it steps
    // itself; the neurons it fuses into their linears keep their membranes in a per-tile buffer)
    sequence_state(const sim_network& net, const std::vector<std::int32_t>& tokens, bool record, bool membranes,
                   bool states = true);
    sequence_state(const sequence_state&) = delete;
    sequence_state& operator=(const sequence_state&) = delete;
};

// s_ij per head [H, N, N] from the Q and K events of one step: for each channel, every pair of a query
// token and a key token that both spiked on it is one coincidence (pairs with j > i are skipped when causal:
// they are no candidates). Work grows with the events, not with N^2 d_h.
struct channel_lists {  // per channel, the tokens that spiked on it (kept across steps to reuse the memory)
    std::vector<std::vector<std::uint32_t>> q, k;
};
void coincidence_scores(std::vector<float>& scores, channel_lists& lists, const events& evq, const events& evk,
                        std::size_t N, std::size_t H, std::size_t dh, bool causal);

// One step of a block's attention on its Q, K and V events (the K/V token shift applied here): scores,
// winners per head into winners_out ([H, N, k] of this step, wta only; may be null otherwise) and the output
// currents o [N, D]; returns the step's attention counts. `v` is V's dense spikes [N, D]; the scratch buffers
// keep their memory between calls.
struct attention_scratch {
    events evk_shift, evv_shift;
    std::vector<float> k_shift, v_shift, scores;
    channel_lists lists;
};
op_counts attention_step(float* o, std::int32_t* winners_out, attention_scratch& s, const events& evq,
                         const events& evk, const events& evv, const float* v, std::size_t N, const model_config& cfg);

}  // namespace wtasim::sim_detail
