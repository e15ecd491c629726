// Streaming generation (scenarios/generate.hpp).
#include "scenarios/generate.hpp"

#include <chrono>
#include <vector>

#include "core/error.hpp"
#include "energy/profile.hpp"
#include "model/checkpoint.hpp"
#include "sim/network.hpp"
#include "sim/stream.hpp"
#include "training/tokenizer.hpp"

namespace wtasim {

struct generator::loaded {
    std::string path;
    std::string backend;
    sim_network net;
    tokenizer tok;
    energy_profile profile;
};

generator::generator(const std::string& path, const std::string& profile, const std::string& backend) {
    const wtasim::checkpoint c = load_checkpoint(path);
    if (c.tokenizer.empty()) throw io_error(path + ": has no /tokenizer/model, so a prompt cannot be encoded");
    m_ = std::make_unique<loaded>(loaded{path, backend, sim_network::from_checkpoint(c, path),
                                         tokenizer::from_bytes(c.tokenizer, path), energy_profile_from(profile)});
    if (m_->tok.vocab_size() != m_->net.cfg.vocab)
        throw io_error(path + ": the tokenizer has " + std::to_string(m_->tok.vocab_size()) +
                       " pieces, @config/vocab = " + std::to_string(m_->net.cfg.vocab));
    stream_decoder check(m_->net, backend);  // a bidirectional model is refused now, not at the first request
}

generator::~generator() = default;

const std::string& generator::checkpoint() const {
    return m_->path;
}

generate_summary generator::run(const generate_request& q,
                                const std::function<void(const generate_summary&)>& prompt_ready,
                                const std::function<bool(const generated_token&)>& on_token) const {
    const sim_network& net = m_->net;
    const energy_profile& profile = m_->profile;
    stream_decoder dec(net, m_->backend);
    std::vector<std::int32_t> seq{tokenizer::bos_id};
    for (auto id : m_->tok.encode(q.text)) seq.push_back(id);
    generate_summary sum;
    sum.requested = q.tokens;
    sum.max_len = net.cfg.max_len;
    sum.profile = profile.name;
    const std::size_t room = net.cfg.max_len > q.tokens ? net.cfg.max_len - q.tokens : 1;
    if (seq.size() > room) {  // keep the end of the prompt and leave room for the continuation
        seq.erase(seq.begin(), seq.end() - static_cast<std::ptrdiff_t>(room));
        sum.prompt_cut = true;
    }
    std::vector<float> logits;
    op_counts ops;
    for (auto id : seq) {
        if (dec.length() >= net.cfg.max_len) break;
        logits = dec.push(id, &ops);
        sum.prompt_ops += ops;
    }
    sum.prompt_tokens = seq.size();
    sum.prompt_energy_pj = profile.energy_pj(sum.prompt_ops);
    std::string shown = m_->tok.decode(std::vector<std::int32_t>(seq.begin() + 1, seq.end()));
    sum.prompt_text = shown;
    if (prompt_ready) prompt_ready(sum);
    const auto t0 = std::chrono::steady_clock::now();
    while (sum.generated < q.tokens && dec.length() < net.cfg.max_len) {
        generated_token t;
        t.index = sum.generated;
        t.id = sample_token(logits, q.temperature, q.top_k, q.seed, sum.generated);
        seq.push_back(t.id);
        const std::string text = m_->tok.decode(std::vector<std::int32_t>(seq.begin() + 1, seq.end()));
        t.text = text.starts_with(shown) ? text.substr(shown.size()) : "\n" + text;
        shown = text;
        ++sum.generated;
        if (dec.length() < net.cfg.max_len) {  // the token's own step through the network: what it costs
            logits = dec.push(t.id, &t.ops);
            sum.generated_ops += t.ops;
        }
        t.energy_pj = profile.energy_pj(t.ops);
        t.paper_energy_pj = paper_convention_energy_pj(t.ops);
        if (!on_token(t)) break;
    }
    sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sum.generated_energy_pj = profile.energy_pj(sum.generated_ops);
    sum.generated_paper_energy_pj = paper_convention_energy_pj(sum.generated_ops);
    return sum;
}

}  // namespace wtasim
