// `wtasim simulate` (tools/simulate.hpp).
#include "tools/simulate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <ostream>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "energy/report.hpp"
#include "sim/engine.hpp"
#include "sim/trace.hpp"

#include <nlohmann/json.hpp>
#include "training/tokenizer.hpp"

namespace wtasim {
namespace {
void write_file(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp);
        if (!f) throw io_error(path + ": cannot write the report");
        f << text;
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) throw io_error(path + ": cannot write the report");
}

// The ANN twin's operation counts on the same tokens: counts depend on sizes and tokens, not weights.
op_counts ann_twin_counts(const model_config& spiking, const std::vector<std::int32_t>& tokens) {
    model_config ann = spiking;
    ann.spiking = false;
    ann.T = 1;
    language_model m(ann);
    m.init(1);
    std::vector<float> logits(tokens.size() * ann.vocab);
    m.forward(logits.data(), tokens.data(), 1, tokens.size(), {}, false);
    return m.counts();
}
}  // namespace

int run_simulate(const simulate_options& o, std::ostream& out) {
    thread_limit limit(o.threads);
    const checkpoint c = load_checkpoint(o.checkpoint);
    if (c.tokenizer.empty()) throw io_error(o.checkpoint + ": /tokenizer/model is missing");
    const sim_network net = sim_network::from_checkpoint(c, o.checkpoint);
    const tokenizer tok = tokenizer::from_bytes(c.tokenizer, o.checkpoint);
    const energy_profile profile = energy_profile_from(o.profile);
    const model_config& cfg = net.cfg;

    std::vector<std::int32_t> tokens{tokenizer::bos_id};
    for (auto id : tok.encode(o.text)) tokens.push_back(id);
    if (tokens.size() > cfg.max_len) tokens.resize(cfg.max_len);
    const sim_result r = o.trace.empty() ? simulate_batch(net, {tokens}, o.backend)[0] : simulate(net, tokens, true);
    if (!o.trace.empty()) {
        const nlohmann::json scenario = {
            {"command", "simulate"}, {"checkpoint", o.checkpoint}, {"text", o.text}, {"profile", o.profile}};
        write_trace(o.trace, net, {tokens}, {r}, scenario.dump());
    }

    // next-token prediction at the last position
    const std::size_t V = cfg.vocab, last = tokens.size() - 1;
    std::vector<std::pair<float, std::int32_t>> top;
    float mx = -1e30f;
    for (std::size_t v = 0; v < V; ++v) mx = std::max(mx, r.logits[last * V + v]);
    double z = 0;
    for (std::size_t v = 0; v < V; ++v) z += std::exp(double(r.logits[last * V + v] - mx));
    for (std::size_t v = 0; v < V; ++v) top.push_back({r.logits[last * V + v], static_cast<std::int32_t>(v)});
    std::partial_sort(top.begin(), top.begin() + 5, top.end(), std::greater<>());
    out << "wtasim simulate: " << o.checkpoint << " (step " << c.step << "), " << (cfg.causal ? "WD" : "WE")
        << "-Spikingformer D " << cfg.D << ", L " << cfg.L << ", T " << cfg.T << ", "
        << attention_kind_name(cfg.block.attn.kind) << " attention, event-driven (" << o.backend << ")\n";
    out << "prompt: \"" << o.text << "\" (" << tokens.size() << " tokens)\nnext token:";
    char buf[128];
    for (std::size_t i = 0; i < 5; ++i) {
        std::snprintf(buf, sizeof buf, " \"%s\" %.3f", tok.decode({top[i].second}).c_str(),
                      std::exp(double(top[i].first - mx)) / z);
        out << buf << (i < 4 ? "," : "\n");
    }
    if (o.generate > 0) {
        std::vector<std::int32_t> seq = tokens;
        for (std::size_t g = 0; g < o.generate && seq.size() < cfg.max_len; ++g) {
            const sim_result step = simulate(net, seq);
            const float* lg = step.logits.data() + (seq.size() - 1) * V;
            seq.push_back(static_cast<std::int32_t>(std::max_element(lg, lg + V) - lg));
        }
        out << "greedy continuation: \"" << tok.decode(std::vector<std::int32_t>(seq.begin() + 1, seq.end())) << "\"\n";
    }

    energy_inputs in;
    in.model = std::string(cfg.causal ? "WD" : "WE") + "-Spikingformer, " + std::to_string(cfg.L) + " blocks, width " +
               std::to_string(cfg.D) + ", T " + std::to_string(cfg.T);
    in.tokens = tokens.size();
    for (const auto& [name, t] : c.params) in.footprint_bytes += t.size() * sizeof(float);
    const std::uint64_t per_token_dense = cfg.L * (4 * cfg.D * cfg.D + 2 * cfg.D * cfg.F) + cfg.D * cfg.vocab;
    in.dense_synaptic_ops = per_token_dense * cfg.T * tokens.size();
    for (const auto& l : r.layers)
        in.layers.push_back({l.name, l.ops, l.events, l.neurons, l.name.ends_with("attn.select")});
    in.ann = ann_twin_counts(cfg, tokens);
    out << "\n" << energy_report_markdown(in, profile);
    if (!o.report_json.empty()) write_file(o.report_json, energy_report_json(in, profile));
    if (!o.report_md.empty()) write_file(o.report_md, energy_report_markdown(in, profile));
    return 0;
}

}  // namespace wtasim
