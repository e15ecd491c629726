// A trained spiking checkpoint prepared for event-driven inference (docs/model.md §6): every spiking linear's
// BatchNorm folded into its weight and a per-output bias (W' = W s, bias = beta - running_mean s,
// s = gamma / sqrt(running_var + eps)), weights stored transposed ([in, out]) so that one input event
// adds one contiguous weight row to its targets' input currents.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "core/allocator.hpp"
#include "model/checkpoint.hpp"
#include "model/config.hpp"

namespace wtasim {

// Output tiles of a transposed weight wt [in, out] for the cpu engine's register-tiled row sums
// (sim/layer_major.cpp): [ceil(out / weight_tile)][in][weight_tile], the last tile padded with zeros, so that
// one tile's weights (in x 256 bytes) are contiguous and stay in cache while a group's events stream past.
// On a cache-line boundary: an event's 256 bytes are then four whole lines, its eight 32-byte loads split
// none (from malloc's 16-byte offset, half of them split two lines: 1.4x the time per event measured).
constexpr std::size_t weight_tile = 64;
using tile_buffer = std::vector<float, aligned_allocator<float, 64>>;
tile_buffer weight_tiles(const float* wt, std::size_t in, std::size_t out);

struct folded_linear {
    std::size_t in = 0, out = 0;
    std::vector<float> wt;    // [in, out]
    std::vector<float> bias;  // [out]
    tile_buffer tiles;        // wt in output tiles (weight_tiles), for the cpu engine
};

// The learned constants of one LIF population (docs/model.md §10 learnable neurons): tau = 1 + exp(-w) and
// v_th per channel, [C] each; empty: the config's scalar.
struct sim_neuron_constants {
    std::vector<float> tau, v_th;
};

struct sim_block {
    folded_linear q, k, v, o, fc1, fc2;
    // per role, in neuron_role order sn1, q, k, v, a, sn2, h
    std::array<sim_neuron_constants, 7> neurons;
};

struct sim_network {
    model_config cfg;
    std::vector<float> tok, pos;  // [V, D], [max_len, D]
    std::vector<sim_block> blocks;
    sim_neuron_constants final_neuron;
    std::vector<float> head_wt, head_b;  // [D, O] (the 1/T mean stays a division, as in the trainer), [O]
    tile_buffer head_tiles;              // head_wt in output tiles (weight_tiles)
    // The head the engine runs: the LM head (O = V, per token) or the checkpoint's task head (O = its outputs;
    // pooled = sequence readout: the mean over tokens comes before the bias, one output row per sequence).
    std::size_t head_outputs = 0;
    bool pooled = false;
    bool task_head = false;

    // Throws io_error naming the file and the missing or mis-shaped tensor; config_error for an ANN twin
    // checkpoint (the twin runs densely through the trainer's forward, not through the event engine).
    static sim_network from_checkpoint(const checkpoint& c, const std::string& origin);
};

}  // namespace wtasim
