// Internal to sim/: the cpu engine's attention step for WTA with one winner per query (k = 1), the WD models'
// CWSSA. Q, K and V come from LIF neurons, so their spikes are bits: each token's spikes of one head are
// packed into 64-bit words, s_ij is the popcount of Q_i AND K_j, and each query finds its winner by one
// scan of its candidates, nearest first (keeping a later candidate only if it scores strictly higher gives
// docs/model.md §3.1's tie rule: higher score, then nearer, then earlier). No [H, N, N] score matrix is
// built and the counts come out of the same scan. Same winners, outputs and counts as sim_detail::attention_step
// (the reference, with the trainer's head kernel), which tests/sim/test_equivalence.cpp checks for every
// recency variant.
#pragma once

#include <cstdint>
#include <vector>

#include "energy/op_counts.hpp"
#include "sim/detail.hpp"

namespace wtasim::sim_detail {

// True when single_winner_step applies to this model (wta, k = 1).
bool single_winner_applies(const model_config& cfg);

struct winner_scratch {
    std::vector<std::uint64_t> q, k, v;  // [N, H, words] packed spikes (K and V after the token shift)
};

// The attention of one step of N tokens from its Q, K and V events: winners [H, N] (-1 = none), output
// currents o [N, D]; returns the step's counts.
op_counts single_winner_step(float* o, std::int32_t* winners, winner_scratch& s, const events& evq, const events& evk,
                             const events& evv, std::size_t N, const model_config& cfg);

}  // namespace wtasim::sim_detail
