// Energy reports (energy/report.hpp).
#include "energy/report.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace wtasim {
namespace {
struct totals {
    op_counts all, attention;
    std::uint64_t events = 0, neurons = 0, active = 0;
};

totals sum(const energy_inputs& in) {
    totals t;
    for (const auto& l : in.layers) {
        t.all += l.ops;
        if (l.attention) t.attention += l.ops;
        t.events += l.events;
        t.neurons += l.neurons;
        t.active += l.active;
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
          {"ActivationSparsity", t.neurons ? 1.0 - double(t.active) / double(t.neurons) : 0.0},
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
    md += "\nActivation sparsity " + fmt("%.4f", t.neurons ? 1.0 - double(t.active) / double(t.neurons) : 0.0) +
          " (fraction of neuron-steps without output); " +
          fmt("%.4f", t.neurons ? double(t.events) / double(t.neurons) : 0.0) + " events per neuron-step.\n";
    return md;
}

namespace {
std::string escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '<')
            o += "&lt;";
        else if (c == '>')
            o += "&gt;";
        else if (c == '&')
            o += "&amp;";
        else if (c == '"')
            o += "&quot;";
        else
            o += c;
    }
    return o;
}

// Horizontal bars: one row per (label, segments); segments are (value, colour) stacked left to right.
std::string bar_chart(const std::string& title,
                      const std::vector<std::pair<std::string, std::vector<std::pair<double, std::string>>>>& rows,
                      const std::string& unit) {
    double mx = 0;
    for (const auto& [label, segs] : rows) {
        double sum = 0;
        for (const auto& sg : segs) sum += sg.first;
        mx = std::max(mx, sum);
    }
    const int row_h = 18, left = 230, width = 520;
    const int height = static_cast<int>(rows.size()) * row_h + 30;
    std::string svg = "<h2>" + escape(title) + "</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                      std::to_string(left + width + 120) + "\" height=\"" + std::to_string(height) +
                      "\" role=\"img\" aria-label=\"" + escape(title) + "\">\n";
    int y = 10;
    for (const auto& [label, segs] : rows) {
        svg += "<text x=\"" + std::to_string(left - 6) + "\" y=\"" + std::to_string(y + 13) +
               "\" text-anchor=\"end\" font-size=\"12\">" + escape(label) + "</text>";
        double x = left, sum = 0;
        for (const auto& [v, colour] : segs) {
            const double w = mx > 0 ? v / mx * width : 0;
            if (w > 0)
                svg += "<rect x=\"" + fmt("%.1f", x) + "\" y=\"" + std::to_string(y + 2) + "\" width=\"" +
                       fmt("%.1f", w) + "\" height=\"" + std::to_string(row_h - 4) + "\" fill=\"" + colour + "\"/>";
            x += w;
            sum += v;
        }
        svg += "<text x=\"" + fmt("%.1f", x + 4) + "\" y=\"" + std::to_string(y + 13) + "\" font-size=\"11\">" +
               fmt("%.4g", sum) + " " + escape(unit) + "</text>\n";
        y += row_h;
    }
    return svg + "</svg>\n";
}
}  // namespace

std::string energy_report_html(const energy_inputs& in, const energy_profile& profile) {
    const std::vector<std::pair<op_class, std::string>> colours = {
        {op_class::ac, "#4e79a7"}, {op_class::mac, "#e15759"}, {op_class::cmp, "#f28e2b"},
        {op_class::nu, "#76b7b2"}, {op_class::exp, "#b07aa1"}, {op_class::div, "#9c755f"}};
    std::vector<std::pair<std::string, std::vector<std::pair<double, std::string>>>> energy_rows, rate_rows, cmp_rows;
    for (const auto& l : in.layers) {
        std::vector<std::pair<double, std::string>> segs;
        for (const auto& [cls, colour] : colours)
            segs.push_back({double(l.ops[cls]) * profile.cost(cls) * 1e-3, colour});
        energy_rows.push_back({l.name, segs});
        if (l.neurons) rate_rows.push_back({l.name, {{double(l.events) / double(l.neurons), "#59a14f"}}});
    }
    op_counts total;
    for (const auto& l : in.layers) total += l.ops;
    cmp_rows.push_back({"SNN, paper convention", {{paper_convention_energy_pj(total) * 1e-3, "#4e79a7"}}});
    cmp_rows.push_back({"ANN twin, paper convention", {{paper_convention_energy_pj(in.ann) * 1e-3, "#e15759"}}});
    cmp_rows.push_back({"SNN, full profile", {{profile.energy_pj(total) * 1e-3, "#4e79a7"}}});
    cmp_rows.push_back({"ANN twin, full profile", {{profile.energy_pj(in.ann) * 1e-3, "#e15759"}}});
    std::string legend = "<p>";
    for (const auto& [cls, colour] : colours)
        legend += "<span style=\"display:inline-block;width:12px;height:12px;background:" + colour + "\"></span> " +
                  std::string(op_class_name(cls)) + " &nbsp; ";
    legend += "</p>\n";
    // the Markdown tables, as preformatted text (no parser needed to read them)
    return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>wtasim energy report</title>\n"
           "<style>body{font-family:sans-serif;margin:2em;max-width:60em}pre{background:#f4f4f4;padding:1em;"
           "overflow-x:auto}</style></head><body>\n<h1>Energy report: " +
           escape(in.model) + "</h1>\n<p>Profile <code>" + escape(profile.name) + "</code> (" + escape(profile.source) +
           "); " + std::to_string(in.tokens) + " tokens.</p>\n" +
           bar_chart("SNN against the equal-size ANN twin", cmp_rows, "nJ") +
           bar_chart("Energy by layer and operation class (full profile)", energy_rows, "nJ") + legend +
           bar_chart("Firing rate by layer (events per neuron per step)", rate_rows, "") + "<h2>Tables</h2>\n<pre>" +
           escape(energy_report_markdown(in, profile)) + "</pre>\n</body></html>\n";
}

}  // namespace wtasim
