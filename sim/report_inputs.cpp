// Energy-report inputs of simulated sequences (sim/report_inputs.hpp).
#include "sim/report_inputs.hpp"

#include "attention/ann_block.hpp"

namespace wtasim {

op_counts ann_twin_counts(const model_config& spiking, const std::vector<std::vector<std::int32_t>>& seqs) {
    const ann_block_config block{spiking.D, spiking.H, spiking.F, spiking.causal};
    const bool task = !spiking.task.empty();
    const std::uint64_t outputs = task ? spiking.task_outputs : spiking.vocab;
    const bool pooled = task && spiking.task_readout == "sequence";
    op_counts total;
    for (const auto& s : seqs) {
        const std::uint64_t n = s.size(), pairs = spiking.causal ? n * (n + 1) / 2 : n * n;
        op_counts ops;
        ops.add(op_class::ac, n * spiking.D);  // the position add
        for (std::size_t l = 0; l < spiking.L; ++l) ops += ann_block_counts(block, n, pairs);
        ops += ann_head_counts(spiking.D, outputs, n, 1, pooled);
        total += ops;
    }
    return total;
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
        }
        in.layers.push_back(l);
    }
    in.ann = ann_twin_counts(cfg, seqs);
    return in;
}

}  // namespace wtasim
