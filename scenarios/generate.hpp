// Streaming generation from a causal spiking checkpoint (`wtasim generate`, `POST /v1/generate` of wtasim
// serve): the prompt is encoded with the checkpoint's tokenizer and fed through the K/V spike cache
// (sim/stream.hpp), then each new token is sampled, handed to the caller with what it cost, and fed back.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "energy/op_counts.hpp"

namespace wtasim {

struct generate_request {
    std::string text;  // the prompt (UTF-8)
    std::size_t tokens = 20;
    double temperature = 0.0;  // 0 = greedy
    std::size_t top_k = 0;     // 0 = all
    std::uint64_t seed = 1;
};

// One generated token: its id, the text it adds to the decoded output (pieces carry their leading space; a
// piece that changes earlier text is sent as "\n" + the whole text, as the CLI prints it), and the operations
// and energy of its own step through the network (none for a token at max_len, which is never fed back).
struct generated_token {
    std::size_t index = 0;
    std::int32_t id = 0;
    std::string text;
    op_counts ops;
    double energy_pj = 0, paper_energy_pj = 0;
};

struct generate_summary {
    std::string prompt_text;  // the prompt as the tokenizer reads it back (cut to max_len when it was longer)
    std::size_t prompt_tokens = 0, generated = 0, requested = 0, max_len = 0;
    bool prompt_cut = false;
    op_counts prompt_ops, generated_ops;
    double prompt_energy_pj = 0, generated_energy_pj = 0, generated_paper_energy_pj = 0;
    double seconds = 0;  // wall time of the generated tokens (the prompt excluded)
    std::string profile;
};

// A loaded checkpoint, network, tokenizer and energy profile; immutable, so one generator serves any number of
// requests at once (each has its own decoder).
class generator {
public:
    // Errors: io_error for a checkpoint without a tokenizer or of another vocabulary, config_error for a
    // bidirectional model, backend_error for a simulator backend that is not available; `profile` is a shipped
    // name or a profile JSON file; `backend` a simulator backend (sim/engine.hpp).
    generator(const std::string& checkpoint, const std::string& profile, const std::string& backend = "cpu");
    ~generator();
    generator(const generator&) = delete;
    generator& operator=(const generator&) = delete;

    // `prompt_ready` receives the summary's prompt fields before the first token; `on_token` each token as it is
    // produced and returns false to stop early (a client that went away).
    generate_summary run(const generate_request& q, const std::function<void(const generate_summary&)>& prompt_ready,
                         const std::function<bool(const generated_token&)>& on_token) const;
    const std::string& checkpoint() const;

private:
    struct loaded;
    std::unique_ptr<loaded> m_;
};

}  // namespace wtasim
