// Streaming generation for WD-Spikingformer (CWSSA, docs/model.md §6): tokens are fed one at a time; each new token
// runs its T steps through every layer, and its attention query reads the K and V spikes of the earlier
// tokens from a spike cache (per block and step) instead of recomputing them. In a causal model a token's
// computation depends only on itself and the tokens before it, so the logits of every position equal a
// full-sequence simulation's bit for bit; the operations of each token are counted as it is processed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "energy/op_counts.hpp"
#include "sim/network.hpp"

namespace wtasim {

// A decoder of the kernel engine (sim/kernel_stream.hpp) behind stream_decoder: on the host's emulated launcher
// or on the GPU.
struct kernel_decoder {
    virtual ~kernel_decoder() = default;
    virtual std::vector<float> push(std::int32_t token, op_counts* ops) = 0;
};
// The checks every decoder makes: a causal model with its LM head (config_error otherwise), and a token id of
// the vocabulary at a position before max_len.
void check_streamable(const sim_network& net);
void check_stream_token(const model_config& cfg, std::size_t position, std::int32_t token);

enum class sequence_schedule;
// The kernel decoder of a backend's schedule (emulated, device), or null for the event engine's (sim/engine.cpp,
// the simulator's backend factory).
std::unique_ptr<kernel_decoder> kernel_decoder_for(const sim_network& net, sequence_schedule where);

class stream_decoder {
public:
    // On the simulator backend `backend` ("reference" and "cpu" run the event engine here; "cuda" keeps the
    // spike cache on the GPU, sim/cuda/backend.hpp; "emulated" runs the GPU's kernels on the host). Throws config_error
    // for a bidirectional (WE) model, whose earlier tokens depend on later ones, backend_error for a backend that is
    // not available.
    explicit stream_decoder(const sim_network& net, const std::string& backend = "cpu");
    ~stream_decoder();
    stream_decoder(stream_decoder&&) noexcept;
    stream_decoder& operator=(stream_decoder&&) = delete;

    // Feeds the token at the next position; returns its logits [V]; `ops` receives what this token cost.
    std::vector<float> push(std::int32_t token, op_counts* ops = nullptr);
    std::size_t length() const { return n_; }

private:
    const sim_network& net_;
    std::unique_ptr<kernel_decoder> kernels_;  // the "cuda" or "emulated" backend's decoder, or null
    std::size_t n_ = 0;
    std::vector<float> k_cache_, v_cache_;  // [L][T][max_len][D] the keys and values each position offers
    std::vector<float> k_last_, v_last_;    // [L][T][D] the last position's own K and V spikes (token shift)
};

// Next token from logits: greedy when temperature is 0 or top_k is 1; otherwise softmax(logits / temperature)
// over the top_k largest (all when 0), drawn by the counter RNG at (seed, step).
std::int32_t sample_token(const std::vector<float>& logits, double temperature, std::size_t top_k, std::uint64_t seed,
                          std::uint64_t step);

}  // namespace wtasim
