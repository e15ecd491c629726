// Energy-report inputs of simulated sequences (sim/report_inputs.hpp).
#include "sim/report_inputs.hpp"

#include "attention/ann_block.hpp"

namespace wtasim {

std::vector<std::pair<std::string, op_counts>> ann_twin_parts(const model_config& spiking,
                                                              const std::vector<std::vector<std::int32_t>>& seqs) {
    const ann_block_config block{spiking.D, spiking.H, spiking.F, spiking.causal};
    const bool task = !spiking.task.empty();
    const std::uint64_t outputs = task ? spiking.task_outputs : spiking.vocab;
    const bool pooled = task && spiking.task_readout == "sequence";
    std::vector<std::pair<std::string, op_counts>> parts{{"embed", {}}};
    for (std::size_t l = 0; l < spiking.L; ++l) parts.push_back({"blocks." + std::to_string(l), {}});
    parts.push_back({"head", {}});
    for (const auto& s : seqs) {
        const std::uint64_t n = s.size(), pairs = spiking.causal ? n * (n + 1) / 2 : n * n;
        parts.front().second.add(op_class::ac, n * spiking.D);  // the position add
        for (std::size_t l = 0; l < spiking.L; ++l) parts[1 + l].second += ann_block_counts(block, n, pairs);
        parts.back().second += ann_head_counts(spiking.D, outputs, n, 1, pooled);
    }
    return parts;
}

op_counts ann_twin_counts(const model_config& spiking, const std::vector<std::vector<std::int32_t>>& seqs) {
    op_counts total;
    for (const auto& [name, ops] : ann_twin_parts(spiking, seqs)) total += ops;
    return total;
}

spike_raster raster_of(const sim_result& recorded, const std::vector<std::int32_t>& seq,
                       const std::vector<std::string>& pieces, std::size_t T, const std::string& layer,
                       std::size_t max_tokens, std::size_t max_neurons) {
    spike_raster r;
    const layer_events* chosen = nullptr;  // by default the busiest layer outside attention (the residual stream's
                                           // and the MLP's neurons; attention's fire in whole columns)
    for (const auto& e : recorded.spikes)
        if (layer.empty()
                ? e.name.find(".attn.") == std::string::npos && (!chosen || e.step.size() > chosen->step.size())
                : e.name == layer)
            chosen = &e;
    if (!chosen) return r;
    r.layer = chosen->name;
    r.steps = T;
    r.neurons = std::min(chosen->n_neurons, max_neurons);
    const std::size_t N = std::min(seq.size(), max_tokens);
    for (std::size_t n = 0; n < N; ++n) {
        const auto id = static_cast<std::size_t>(seq[n]);
        r.tokens.push_back(id < pieces.size() ? pieces[id] : std::to_string(seq[n]));
    }
    for (std::size_t e = 0; e < chosen->step.size(); ++e)
        if (chosen->token[e] < N && chosen->neuron[e] < r.neurons) {
            r.step.push_back(chosen->step[e]);
            r.token.push_back(chosen->token[e]);
            r.neuron.push_back(chosen->neuron[e]);
        }
    return r;
}

energy_inputs simulated_energy(const checkpoint& c, const model_config& cfg,
                               const std::vector<std::vector<std::int32_t>>& seqs,
                               const std::vector<sim_result>& results) {
    energy_inputs in;
    in.model = std::string(cfg.causal ? "WD" : "WE") + "-Spikingformer, " + std::to_string(cfg.L) + " blocks, width " +
               std::to_string(cfg.D) + ", T " + std::to_string(cfg.T);
    if (cfg.readout != "spikes") in.model += ", readout " + cfg.readout;
    if (cfg.block.norm != norm_kind::batch) in.model += std::string(", norm ") + norm_kind_name(cfg.block.norm);
    for (const auto& q : seqs) in.tokens += q.size();
    for (const auto& [name, t] : c.params) in.footprint_bytes += t.size() * sizeof(float);
    const std::uint64_t outputs = cfg.task.empty() ? cfg.vocab : cfg.task_outputs;
    const std::uint64_t per_token_dense = cfg.L * (4 * cfg.D * cfg.D + 2 * cfg.D * cfg.F) + cfg.D * outputs;
    in.dense_synaptic_ops = per_token_dense * cfg.T * in.tokens;
    for (std::size_t i = 0; i < results.at(0).layers.size(); ++i) {
        layer_counts l{results[0].layers[i].name, {}, 0, 0, 0, results[0].layers[i].name.ends_with("attn.select")};
        for (const auto& r : results) {
            l.ops += r.layers[i].ops;
            l.events += r.layers[i].events;
            l.neurons += r.layers[i].neurons;
            l.active += r.layers[i].active;
            const auto& se = r.layers[i].step_events;
            if (l.step_events.size() < se.size()) l.step_events.resize(se.size(), 0);
            for (std::size_t t = 0; t < se.size(); ++t) l.step_events[t] += se[t];
        }
        in.layers.push_back(l);
    }
    in.ann_parts = ann_twin_parts(cfg, seqs);
    for (const auto& [name, ops] : in.ann_parts) in.ann += ops;
    in.provenance.created = report_timestamp();
    return in;
}

}  // namespace wtasim
