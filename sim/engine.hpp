// The event-driven simulator (docs/model.md §6). A sequence runs step by step; in each step the layers run in
// order, each consuming the previous layer's spike events (token, neuron, level) and emitting its own:
//   - a spiking linear adds, for every input event, one row of its folded weight to the input currents of
//     its targets (events x D_out AC), plus its folded-BN bias per token (D_out AC);
//   - a neuron population integrates its currents (one NU per neuron), fires, and emits the next events;
//   - attention builds per-head Q/K coincidence counts from the Q and K events, selects winners per query
//     (WSSA / CWSSA) and gathers only the winners' V events (or applies SSA / softmax);
//   - the LM head adds a weight row per final event over all steps; the 1/T mean and the bias come last.
// Only events cost accumulates; silent neurons cost only their state update. Counts are kept per layer and
// per operation class. Sequences of a batch are independent. The reference backend runs them one after
// another, step-major (simulate, below). The cpu backend runs groups of them layer-major over all T steps, the
// groups in parallel (sim/layer_major.hpp), with the same float operations per output and so the same bits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "energy/op_counts.hpp"
#include "sim/network.hpp"

namespace wtasim {
class progress;
}

namespace wtasim {

struct layer_stats {
    std::string name;  // "blocks.0.attn.q", "blocks.0.sn_q", "head", ...
    op_counts ops;
    std::uint64_t events = 0;                     // spikes emitted (NI-LIF: levels); 0 for linears
    std::uint64_t neurons = 0;                    // population size x steps (NU) for neuron layers
    std::uint64_t active = 0;                     // neuron-steps with a non-zero output (NI-LIF: any level)
    std::vector<std::uint64_t> step_events = {};  // [T]: the events of each step (neuron layers; empty for linears)
};

// The spike events of one neuron layer over a run, sorted by step then token then neuron; an NI-LIF level m
// is m binary events (the sub-steps of docs/model.md §2.2), so the list length is the layer's event count.
struct layer_events {
    std::string name;
    std::size_t n_neurons = 0;
    std::vector<std::uint32_t> step, token, neuron;
    std::vector<float> membrane;  // [T, N, n_neurons] charged membrane (LIF H, NI-LIF U), when asked for
};

struct sim_result {
    std::vector<float> logits;  // [N, V]; task head: [N, outputs] (token readout) or [1, outputs] (sequence)
    std::vector<layer_stats> layers;
    op_counts total;
    std::vector<op_counts> per_step;    // [T]: all layers' operations in each step (embedding in step 0)
    std::vector<std::int32_t> winners;  // per block [T, H, N, k] concatenated (wta), -1 = none
    std::vector<layer_events> spikes;   // filled when recording was asked for
};

// config_error unless `tokens` is 1 to max_len ids of the vocabulary (every backend checks it first).
void check_sequence(const model_config& cfg, const std::vector<std::int32_t>& tokens);

// One sequence of real tokens; `record` keeps every neuron layer's events (for traces), `membranes` also
// their membrane potentials.
sim_result simulate(const sim_network& net, const std::vector<std::int32_t>& tokens, bool record = false,
                    bool membranes = false);

// Where and how the sequences of a batch run: on the host one after another through the step-major
// reference, or in groups through the layer-major engine, the groups in parallel over TBB's threads (the same
// float operations per output either way, so results are bit-identical whatever the schedule, the grouping
// and the thread count); or on the GPU (`device`: the kernel engine of sim/kernel_engine.hpp,
// sequences of one length as one batch), which gives the same spikes, counts and logits; or that kernel engine
// on the host through the emulated launcher (`emulated`: the GPU's code path, testable on any machine; slow).
enum class sequence_schedule { serial, parallel, device, emulated };

// The simulator's backends, by the names scenarios and the command line use (docs/model.md §6):
// "reference" = the step-major event engine, one sequence after another, "cpu" = the layer-major engine,
// groups of sequences in parallel,
// "cuda" = the kernel engine on the GPU (registered when this build has CUDA and a GPU is visible),
// "emulated" = the same kernel engine on the host (core/launch.hpp), one element after another.
struct sim_backend {
    std::string name;
    sequence_schedule schedule;
};
std::vector<std::string> sim_backend_names();
// Why the known backend `name` is not available here ("cuda" without CUDA or a GPU); "" otherwise.
std::string sim_backend_absence(const std::string& name);
// Throws backend_error naming the value and the available backends.
const sim_backend& sim_backend_named(const std::string& name);

// A batch of sequences; `shown` (core/progress.hpp), when given, counts each finished sequence and its tokens;
// `record` and `membranes` as for simulate.
std::vector<sim_result> simulate_batch(const sim_network& net, const std::vector<std::vector<std::int32_t>>& sequences,
                                       sequence_schedule schedule = sequence_schedule::parallel,
                                       progress* shown = nullptr, bool record = false, bool membranes = false);

}  // namespace wtasim
