// Energy reports (energy/report.hpp).
#include "energy/report.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace wtasim {
namespace {
struct totals {
    op_counts all, attention;
    std::uint64_t events = 0, neurons = 0;
};

totals sum(const energy_inputs& in) {
    totals t;
    for (const auto& l : in.layers) {
        t.all += l.ops;
        if (l.attention) t.attention += l.ops;
        t.events += l.events;
        t.neurons += l.neurons;
    }
    return t;
}

nlohmann::json counts_json(const op_counts& c) {
    nlohmann::json j = nlohmann::json::object();
    for (std::size_t i = 0; i < n_op_classes; ++i)
        if (c.n[i]) j[std::string(op_class_name(static_cast<op_class>(i)))] = c.n[i];
    return j;
}

std::string fmt(const char* f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}
}  // namespace

std::string energy_report_json(const energy_inputs& in, const energy_profile& profile) {
    const totals t = sum(in);
    const double paper = paper_convention_energy_pj(t.all), full = profile.energy_pj(t.all);
    const double ann_paper = paper_convention_energy_pj(in.ann), ann_full = profile.energy_pj(in.ann);
    const double tokens = double(std::max<std::uint64_t>(1, in.tokens));
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : in.layers)
        layers.push_back({{"name", l.name},
                          {"counts", counts_json(l.ops)},
                          {"energy_pj", profile.energy_pj(l.ops)},
                          {"paper_energy_pj", paper_convention_energy_pj(l.ops)},
                          {"events", l.events},
                          {"neuron_steps", l.neurons},
                          {"firing_rate", l.neurons ? double(l.events) / double(l.neurons) : 0.0},
                          {"attention", l.attention}});
    const op_counts synaptic_free = t.all;  // NeuroBench: synaptic ops exclude attention's
    nlohmann::json j = {
        {"model", in.model},
        {"tokens", in.tokens},
        {"profile", {{"name", profile.name}, {"source", profile.source}}},
        {"counts", counts_json(t.all)},
        {"energy_pj", {{"paper_convention", paper}, {"full_profile", full}}},
        {"energy_per_token_pj", {{"paper_convention", paper / tokens}, {"full_profile", full / tokens}}},
        {"ann_twin",
         {{"counts", counts_json(in.ann)},
          {"energy_pj", {{"paper_convention", ann_paper}, {"full_profile", ann_full}}},
          {"ratio_snn_to_ann",
           {{"paper_convention", ann_paper > 0 ? paper / ann_paper : 0.0},
            {"full_profile", ann_full > 0 ? full / ann_full : 0.0}}}}},
        {"neurobench",
         {{"Footprint", in.footprint_bytes},
          {"ConnectionSparsity", 0.0},
          {"ActivationSparsity", t.neurons ? 1.0 - double(t.events) / double(t.neurons) : 0.0},
          {"SynapticOperations",
           {{"Effective_MACs", synaptic_free[op_class::mac] - t.attention[op_class::mac]},
            {"Effective_ACs", synaptic_free[op_class::ac] - t.attention[op_class::ac]},
            {"Dense", in.dense_synaptic_ops}}},
          {"MembraneUpdates", t.all[op_class::nu]},
          {"AttentionOperations", counts_json(t.attention)}}},
        {"layers", layers}};
    return j.dump(2);
}

std::string energy_report_markdown(const energy_inputs& in, const energy_profile& profile) {
    const totals t = sum(in);
    const double paper = paper_convention_energy_pj(t.all), full = profile.energy_pj(t.all);
    const double ann_paper = paper_convention_energy_pj(in.ann), ann_full = profile.energy_pj(in.ann);
    const double tokens = double(std::max<std::uint64_t>(1, in.tokens));
    std::string md = "## Energy report: " + in.model + "\n\n";
    md += "Profile `" + profile.name + "`; " + std::to_string(in.tokens) + " tokens.\n\n";
    md += "| | SNN (this run) | ANN twin (same size, same tokens) | SNN / ANN |\n|---|---|---|---|\n";
    md += "| paper convention (4.6 pJ MAC + 0.9 pJ AC) | " + fmt("%.3f nJ", paper * 1e-3) + " | " +
          fmt("%.3f nJ", ann_paper * 1e-3) + " | " + fmt("%.3f", ann_paper > 0 ? paper / ann_paper : 0) + " |\n";
    md += "| full profile | " + fmt("%.3f nJ", full * 1e-3) + " | " + fmt("%.3f nJ", ann_full * 1e-3) + " | " +
          fmt("%.3f", ann_full > 0 ? full / ann_full : 0) + " |\n";
    md += "| per token, full profile | " + fmt("%.2f pJ", full / tokens) + " | " + fmt("%.2f pJ", ann_full / tokens) +
          " | |\n\n";
    md += "| operations | AC | MAC | CMP | NU | EXP | DIV |\n|---|---|---|---|---|---|---|\n";
    auto row = [&](const std::string& name, const op_counts& c) {
        md += "| " + name;
        for (op_class k : {op_class::ac, op_class::mac, op_class::cmp, op_class::nu, op_class::exp, op_class::div})
            md += " | " + std::to_string(c[k]);
        md += " |\n";
    };
    row("SNN", t.all);
    row("of which attention", t.attention);
    row("ANN twin", in.ann);
    md += "\nActivation sparsity " + fmt("%.4f", t.neurons ? 1.0 - double(t.events) / double(t.neurons) : 0.0) +
          " (firing rate " + fmt("%.4f", t.neurons ? double(t.events) / double(t.neurons) : 0.0) + ").\n";
    return md;
}

}  // namespace wtasim
