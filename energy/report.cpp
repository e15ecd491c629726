// Energy reports (energy/report.hpp).
#include "energy/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
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
    nlohmann::json parts = nlohmann::json::array();
    for (const auto& [name, ops] : in.ann_parts)
        parts.push_back({{"name", name}, {"counts", counts_json(ops)}, {"energy_pj", profile.energy_pj(ops)}});
    j["ann_twin"]["parts"] = parts;
    if (in.examples)
        j["energy_per_example_pj"] = {{"paper_convention", paper / double(in.examples)},
                                      {"full_profile", full / double(in.examples)}};
    j["units"] = {{"energy", "pJ"}, {"counts", "operations"}, {"firing_rate", "events per neuron per time step"}};
    j["provenance"] = {{"checkpoint", in.provenance.checkpoint}, {"scenario", in.provenance.scenario},
                       {"command", in.provenance.command},       {"wtasim_version", WTASIM_VERSION},
                       {"created", in.provenance.created},       {"profile", profile.name},
                       {"profile_source", profile.source}};
    if (in.has_task) {
        auto num = [](double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); };
        j["task"] = {{"name", in.task.name},
                     {"metric", in.task.metric},
                     {"score", num(in.task.score)},
                     {"ann_twin_score", num(in.task.ann_score)},
                     {"majority", num(in.task.majority)},
                     {"examples", in.task.examples}};
    }
    for (std::size_t i = 0; i < in.layers.size(); ++i) j["layers"][i]["step_events"] = in.layers[i].step_events;
    return j.dump(2);
}

namespace {
std::string num(const char* f, double v) {
    return std::isnan(v) ? "—" : fmt(f, v);
}

// The SNN's operations grouped by the ANN twin's parts, in network order.
std::vector<std::pair<std::string, op_counts>> snn_parts(const energy_inputs& in) {
    std::vector<std::pair<std::string, op_counts>> parts;
    for (const auto& l : in.layers) {
        const std::string part = report_part(l.name);
        if (parts.empty() || parts.back().first != part) parts.push_back({part, {}});
        parts.back().second += l.ops;
    }
    return parts;
}

op_counts part_of(const std::vector<std::pair<std::string, op_counts>>& parts, const std::string& name) {
    for (const auto& [n, ops] : parts)
        if (n == name) return ops;
    return {};
}
}  // namespace

std::string report_part(const std::string& layer) {
    if (layer.starts_with("blocks.")) {
        const std::size_t dot = layer.find('.', 7);
        return layer.substr(0, dot);
    }
    if (layer == "sn_final") return "head";
    return layer;
}

std::string report_timestamp() {
    std::time_t t = std::time(nullptr);
    if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH")) {
        char* end = nullptr;
        const long long v = std::strtoll(epoch, &end, 10);
        if (end != epoch && *end == '\0' && v >= 0) t = static_cast<std::time_t>(v);
    }
    std::tm utc{};
    gmtime_r(&t, &utc);
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return b;
}

std::string energy_report_markdown(const energy_inputs& in, const energy_profile& profile) {
    const totals t = sum(in);
    const double paper = paper_convention_energy_pj(t.all), full = profile.energy_pj(t.all);
    const double ann_paper = paper_convention_energy_pj(in.ann), ann_full = profile.energy_pj(in.ann);
    const double tokens = double(std::max<std::uint64_t>(1, in.tokens));
    std::string md = "## Energy report: " + in.model + "\n\n";
    if (in.has_task)
        md += "Task **" + in.task.name + "**, " + in.task.metric + " on " + std::to_string(in.task.examples) +
              " examples: spiking model (simulator) " + num("%.4f", in.task.score) + ", ANN twin " +
              num("%.4f", in.task.ann_score) + ", majority class " + num("%.4f", in.task.majority) + ".\n\n";
    md += "Profile `" + profile.name + "` (" + profile.source + "); " + std::to_string(in.tokens) + " tokens" +
          (in.examples ? ", " + std::to_string(in.examples) + " examples" : std::string()) + ".\n";
    const report_provenance& pv = in.provenance;
    if (!pv.checkpoint.empty() || !pv.created.empty())
        md += "Checkpoint `" + pv.checkpoint + "`, scenario `" + pv.scenario + "`, `" + pv.command + "`, wtasim " +
              WTASIM_VERSION + ", " + pv.created + ".\n";
    md += "\n| energy (nJ) | SNN (this run) | ANN twin (same size, same tokens) |\n|---|---|---|\n";
    md += "| paper convention (4.6 pJ MAC + 0.9 pJ AC) | " + fmt("%.3f", paper * 1e-3) + " | " +
          fmt("%.3f", ann_paper * 1e-3) + " |\n";
    md += "| full profile | " + fmt("%.3f", full * 1e-3) + " | " + fmt("%.3f", ann_full * 1e-3) + " |\n\n";
    md += "| energy per token (nJ) | SNN | ANN twin |\n|---|---|---|\n";
    md += "| paper convention | " + fmt("%.3f", paper * 1e-3 / tokens) + " | " +
          fmt("%.3f", ann_paper * 1e-3 / tokens) + " |\n";
    md += "| full profile | " + fmt("%.3f", full * 1e-3 / tokens) + " | " + fmt("%.3f", ann_full * 1e-3 / tokens) +
          " |\n\n";
    if (in.examples) {
        const double n = double(in.examples);
        md += "| energy per example (nJ) | SNN | ANN twin |\n|---|---|---|\n";
        md += "| paper convention | " + fmt("%.3f", paper * 1e-3 / n) + " | " + fmt("%.3f", ann_paper * 1e-3 / n) +
              " |\n";
        md += "| full profile | " + fmt("%.3f", full * 1e-3 / n) + " | " + fmt("%.3f", ann_full * 1e-3 / n) + " |\n\n";
    }
    md += "| SNN / ANN (energy ratio) | paper convention | full profile |\n|---|---|---|\n";
    md += "| SNN / ANN | " + fmt("%.3f", ann_paper > 0 ? paper / ann_paper : 0) + " | " +
          fmt("%.3f", ann_full > 0 ? full / ann_full : 0) + " |\n\n";
    md += "| operations (count) | AC | MAC | CMP | NU | EXP | DIV |\n|---|---|---|---|---|---|---|\n";
    auto row = [&](const std::string& name, const op_counts& c) {
        md += "| " + name;
        for (op_class k : {op_class::ac, op_class::mac, op_class::cmp, op_class::nu, op_class::exp, op_class::div})
            md += " | " + std::to_string(c[k]);
        md += " |\n";
    };
    row("SNN", t.all);
    row("of which attention", t.attention);
    row("ANN twin", in.ann);
    if (!in.ann_parts.empty()) {
        md += "\n| energy by part, full profile (nJ) | SNN | ANN twin |\n|---|---|---|\n";
        for (const auto& [name, ops] : snn_parts(in))
            md += "| " + name + " | " + fmt("%.3f", profile.energy_pj(ops) * 1e-3) + " | " +
                  fmt("%.3f", profile.energy_pj(part_of(in.ann_parts, name)) * 1e-3) + " |\n";
    }
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

// Ticks 0, s, 2s, ... covering [0, mx] with s = 1, 2 or 5 x 10^k, about five of them.
std::vector<double> ticks(double mx) {
    if (!(mx > 0)) return {0.0, 1.0};
    const double raw = mx / 5, p = std::pow(10.0, std::floor(std::log10(raw)));
    const double step = raw <= p ? p : raw <= 2 * p ? 2 * p : raw <= 5 * p ? 5 * p : 10 * p;
    std::vector<double> t;
    for (double v = 0; v < mx + step * 0.999; v += step) t.push_back(v);
    return t;
}

std::string tick_label(double v) {
    return fmt(v != 0 && (std::fabs(v) < 0.01 || std::fabs(v) >= 1e5) ? "%.1e" : "%g", v);
}

struct svg_figure {
    std::string id, title, caption, body;
    int width = 0, height = 0;
    std::string svg() const {
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
               std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
               "\" font-family=\"sans-serif\" role=\"img\" aria-label=\"" + escape(title) + "\">\n<title>" +
               escape(title) + "</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + body + "</svg>\n";
    }
};

std::string text(double x, double y, const std::string& s, const char* anchor = "start", int size = 11,
                 const std::string& extra = "") {
    return "<text x=\"" + fmt("%.1f", x) + "\" y=\"" + fmt("%.1f", y) + "\" text-anchor=\"" + anchor +
           "\" font-size=\"" + std::to_string(size) + "\"" + extra + ">" + escape(s) + "</text>";
}
std::string rect(double x, double y, double w, double h, const std::string& fill) {
    return "<rect x=\"" + fmt("%.1f", x) + "\" y=\"" + fmt("%.1f", y) + "\" width=\"" + fmt("%.1f", w) +
           "\" height=\"" + fmt("%.1f", h) + "\" fill=\"" + fill + "\"/>";
}
std::string line(double x1, double y1, double x2, double y2, const std::string& stroke = "#444") {
    return "<line x1=\"" + fmt("%.1f", x1) + "\" y1=\"" + fmt("%.1f", y1) + "\" x2=\"" + fmt("%.1f", x2) + "\" y2=\"" +
           fmt("%.1f", y2) + "\" stroke=\"" + stroke + "\" stroke-width=\"1\"/>";
}

// The legend: coloured squares with names, in one row at (x, y).
std::string legend(double x, double y, const std::vector<std::pair<std::string, std::string>>& entries) {
    std::string s;
    for (const auto& [name, colour] : entries) {
        s += rect(x, y - 9, 10, 10, colour) + text(x + 14, y, name);
        x += 24 + 7.0 * double(name.size());
    }
    return s + "\n";
}

// Horizontal bars with an x axis: rows of (label, groups of stacked segments); each group is one bar of the row.
using segments = std::vector<std::pair<double, std::string>>;
svg_figure bar_figure(const std::string& id, const std::string& title, const std::string& axis,
                      const std::vector<std::pair<std::string, std::vector<segments>>>& rows,
                      const std::vector<std::pair<std::string, std::string>>& keys, double fixed_max = 0) {
    double mx = fixed_max;
    std::size_t bars = 1;
    for (const auto& [label, groups] : rows) {
        bars = std::max(bars, groups.size());
        for (const auto& g : groups) {
            double total = 0;
            for (const auto& sg : g) total += sg.first;
            if (fixed_max == 0) mx = std::max(mx, total);
        }
    }
    const std::vector<double> tk = ticks(mx);
    const double top = tk.back();
    const int left = 190, plot = 460, bar_h = 12, gap = 8, head = 34;
    const int row_h = int(bars) * bar_h + gap;
    const int plot_h = int(rows.size()) * row_h;
    svg_figure f{id, title, "", "", left + plot + 40, head + plot_h + 46};
    std::string& b = f.body;
    b += text(8, 16, title, "start", 13, " font-weight=\"bold\"") + "\n";
    b += legend(left, 30, keys);
    const double y0 = head + 4;
    for (double v : tk) {  // grid and tick labels
        const double x = left + v / top * plot;
        b += line(x, y0, x, y0 + plot_h, "#ddd") + text(x, y0 + plot_h + 14, tick_label(v), "middle", 10);
    }
    b += line(left, y0 + plot_h, left + plot, y0 + plot_h) + line(left, y0, left, y0 + plot_h) + "\n";
    b += text(left + plot / 2.0, y0 + plot_h + 32, axis, "middle", 11) + "\n";
    double y = y0 + gap / 2.0;
    for (const auto& [label, groups] : rows) {
        b += text(left - 6, y + double(groups.size()) * bar_h / 2.0 + 4, label, "end", 11);
        for (const auto& g : groups) {
            double x = left;
            for (const auto& [v, colour] : g) {
                const double w = top > 0 ? v / top * plot : 0;
                if (w > 0) b += rect(x, y, w, bar_h - 2, colour);
                x += w;
            }
            y += bar_h;
        }
        y += gap;
        b += "\n";
    }
    return f;
}

std::string base64(const std::string& s) {
    static const char* digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string o;
    o.reserve((s.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < s.size(); i += 3) {
        const std::size_t n = std::min<std::size_t>(3, s.size() - i);
        std::uint32_t v = 0;
        for (std::size_t k = 0; k < 3; ++k) v = v << 8 | (k < n ? static_cast<unsigned char>(s[i + k]) : 0u);
        for (std::size_t k = 0; k < 4; ++k) o += k <= n ? digits[(v >> (18 - 6 * k)) & 63] : '=';
    }
    return o;
}

std::string figure_html(const svg_figure& f) {
    return "<figure id=\"" + f.id + "\">\n" + f.svg() + "<figcaption>" + f.caption + " <a download=\"" + f.id +
           ".svg\" href=\"data:image/svg+xml;base64," + base64(f.svg()) +
           "\">Download SVG</a></figcaption>\n</figure>\n";
}

const std::vector<std::pair<op_class, std::string>>& class_colours() {
    static const std::vector<std::pair<op_class, std::string>> c = {
        {op_class::ac, "#4e79a7"}, {op_class::mac, "#e15759"}, {op_class::cmp, "#f28e2b"},
        {op_class::nu, "#76b7b2"}, {op_class::exp, "#b07aa1"}, {op_class::div, "#9c755f"}};
    return c;
}

std::vector<std::pair<std::string, std::string>> class_keys() {
    std::vector<std::pair<std::string, std::string>> k;
    for (const auto& [cls, colour] : class_colours()) k.push_back({std::string(op_class_name(cls)), colour});
    return k;
}

// Firing rate of each neuron layer in each time step, as a heat map with its colour scale.
svg_figure step_figure(const energy_inputs& in) {
    std::vector<const layer_counts*> rows;
    std::size_t T = 0;
    double mx = 0;
    for (const auto& l : in.layers)
        if (l.neurons && !l.step_events.empty()) {
            rows.push_back(&l);
            T = std::max(T, l.step_events.size());
        }
    for (const auto* l : rows)
        for (auto e : l->step_events)
            mx = std::max(mx, double(e) / (double(l->neurons) / double(l->step_events.size())));
    const int left = 190, cell_w = std::max(24, 360 / int(std::max<std::size_t>(1, T))), cell_h = 14, head = 24;
    svg_figure f{"firing-rate-per-step",       "Firing rate per layer and time step", "", "",
                 left + int(T) * cell_w + 150, head + int(rows.size()) * cell_h + 50};
    std::string& b = f.body;
    b += text(8, 16, f.title, "start", 13, " font-weight=\"bold\"") + "\n";
    auto colour = [&](double v) {  // white to dark green
        const double a = mx > 0 ? v / mx : 0;
        const int r = int(255 - a * (255 - 0x1b)), g = int(255 - a * (255 - 0x5e)), bl = int(255 - a * (255 - 0x20));
        char c[16];
        std::snprintf(c, sizeof c, "#%02x%02x%02x", r, g, bl);
        return std::string(c);
    };
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& l = *rows[i];
        const double y = head + double(i) * cell_h;
        b += text(left - 6, y + 11, l.name, "end", 10);
        const double per_step = double(l.neurons) / double(l.step_events.size());
        for (std::size_t t = 0; t < l.step_events.size(); ++t) {
            const double v = double(l.step_events[t]) / per_step;
            b += "<rect x=\"" + fmt("%.1f", left + double(t) * cell_w) + "\" y=\"" + fmt("%.1f", y) + "\" width=\"" +
                 std::to_string(cell_w - 1) + "\" height=\"" + std::to_string(cell_h - 1) + "\" fill=\"" + colour(v) +
                 "\"><title>" + escape(l.name) + ", t = " + std::to_string(t) + ": " + fmt("%.4f", v) +
                 "</title></rect>";
        }
        b += "\n";
    }
    const double yb = head + double(rows.size()) * cell_h;
    for (std::size_t t = 0; t < T; ++t)
        b += text(left + (double(t) + 0.5) * cell_w, yb + 14, std::to_string(t), "middle", 10);
    b += text(left + double(T) * cell_w / 2.0, yb + 32, "time step t", "middle", 11) + "\n";
    // colour scale
    const double xs = left + double(T) * cell_w + 30;
    for (int k = 0; k < 10; ++k) b += rect(xs, head + 10.0 * (9 - k), 14, 10, colour(mx * (k + 0.5) / 10));
    b += text(xs + 18, head + 9, fmt("%.3g", mx)) + text(xs + 18, head + 100, "0") +
         text(xs - 4, head + 116, "events per neuron", "start", 10) + text(xs - 4, head + 128, "per step", "start", 10);
    f.height = std::max(f.height, head + 140);
    return f;
}

// The spikes of one layer over one sequence: x = token and step (token-major), y = neuron.
svg_figure raster_figure(const spike_raster& r) {
    const std::size_t cols = r.tokens.size() * r.steps;
    const int left = 60, head = 28;
    const double cw = std::max(1.0, std::min(8.0, 640.0 / double(std::max<std::size_t>(1, cols))));
    const double rh = std::max(1.5, std::min(4.0, 320.0 / double(std::max<std::size_t>(1, r.neurons))));
    const double pw = cw * double(cols), ph = rh * double(r.neurons);
    svg_figure f{
        "spike-raster",     "Spike raster: " + r.layer + ", first traced sequence", "", "", int(left + pw + 30),
        int(head + ph + 90)};
    std::string& b = f.body;
    b += text(8, 16, f.title, "start", 13, " font-weight=\"bold\"") + "\n";
    b += rect(left, head, pw, ph, "#fafafa");
    std::string dots;  // one small square per event, as one path (a raster has thousands)
    const std::string square = "h" + fmt("%.1f", cw) + "v" + fmt("%.1f", rh) + "h-" + fmt("%.1f", cw) + "z";
    for (std::size_t e = 0; e < r.step.size(); ++e) {
        if (r.neuron[e] >= r.neurons || r.token[e] >= r.tokens.size()) continue;
        const double x = left + (double(r.token[e]) * double(r.steps) + double(r.step[e])) * cw;
        const double y = head + double(r.neuron[e]) * rh;
        dots += "M" + fmt("%.1f", x) + " " + fmt("%.1f", y) + square;
    }
    b += "<path fill=\"#222\" d=\"" + dots + "\"/>\n";
    b += line(left, head + ph, left + pw, head + ph) + line(left, head, left, head + ph) + "\n";
    const std::size_t every = std::max<std::size_t>(1, r.tokens.size() / 16);
    for (std::size_t n = 0; n < r.tokens.size(); n += every) {
        const double x = left + double(n * r.steps) * cw;
        b += line(x, head + ph, x, head + ph + 4) +
             text(x + 2, head + ph + 14, r.tokens[n].size() > 10 ? r.tokens[n].substr(0, 10) : r.tokens[n], "start", 9,
                  " transform=\"rotate(30 " + fmt("%.1f", x + 2) + " " + fmt("%.1f", head + ph + 14) + ")\"");
    }
    b += text(left + pw / 2, head + ph + 62, "token (each token spans its " + std::to_string(r.steps) + " time steps)",
              "middle", 11);
    for (double v : ticks(double(r.neurons - 1))) {
        if (v > double(r.neurons - 1)) break;
        b += text(left - 4, head + v * rh + 4, tick_label(v), "end", 10);
    }
    b += text(14, head + ph / 2, "neuron", "middle", 11,
              " transform=\"rotate(-90 14 " + fmt("%.1f", head + ph / 2) + ")\"") +
         "\n";
    return f;
}
}  // namespace

std::string energy_report_html(const energy_inputs& in, const energy_profile& profile) {
    const totals t = sum(in);
    const std::string snn_c = "#4e79a7", ann_c = "#e15759";
    std::vector<svg_figure> figs;
    // 1. SNN against the twin, part by part
    {
        std::vector<std::pair<std::string, std::vector<segments>>> rows;
        for (const auto& [name, ops] : snn_parts(in))
            rows.push_back({name,
                            {{{profile.energy_pj(ops) * 1e-3, snn_c}},
                             {{profile.energy_pj(part_of(in.ann_parts, name)) * 1e-3, ann_c}}}});
        rows.push_back({"total, full profile",
                        {{{profile.energy_pj(t.all) * 1e-3, snn_c}}, {{profile.energy_pj(in.ann) * 1e-3, ann_c}}}});
        rows.push_back({"total, paper convention",
                        {{{paper_convention_energy_pj(t.all) * 1e-3, snn_c}},
                         {{paper_convention_energy_pj(in.ann) * 1e-3, ann_c}}}});
        figs.push_back(bar_figure("snn-vs-ann-by-part", "Energy per layer: SNN against the equal-size ANN twin",
                                  "energy (nJ), profile " + profile.name, rows,
                                  {{"SNN (simulated spikes)", snn_c}, {"ANN twin (dense)", ann_c}}));
        figs.back().caption =
            "Energy of each part of the network on the same tokens; the last rows are the totals "
            "under the full profile and under the paper convention (4.6 pJ MAC + 0.9 pJ AC).";
    }
    // 2. energy by layer and class
    {
        std::vector<std::pair<std::string, std::vector<segments>>> rows;
        for (const auto& l : in.layers) {
            segments sg;
            for (const auto& [cls, colour] : class_colours())
                sg.push_back({double(l.ops[cls]) * profile.cost(cls) * 1e-3, colour});
            rows.push_back({l.name, {sg}});
        }
        figs.push_back(bar_figure("energy-by-layer", "Energy by layer and operation class",
                                  "energy (nJ), profile " + profile.name, rows, class_keys()));
        figs.back().caption = "Each neuron, linear and attention layer of the SNN, stacked by operation class.";
    }
    // 3. operation mix
    {
        std::vector<std::pair<std::string, std::vector<segments>>> rows;
        for (const auto& [name, ops] :
             {std::pair{std::string("SNN"), t.all}, std::pair{std::string("ANN twin"), in.ann}}) {
            const double total = profile.energy_pj(ops);
            segments sg;
            for (const auto& [cls, colour] : class_colours())
                sg.push_back({total > 0 ? 100.0 * double(ops[cls]) * profile.cost(cls) / total : 0.0, colour});
            rows.push_back({name, {sg}});
        }
        figs.push_back(bar_figure("operation-mix", "Operation mix: share of the energy by class",
                                  "share of the energy (%), profile " + profile.name, rows, class_keys(), 100));
        figs.back().caption =
            "Where each model's energy goes: accumulates (AC), multiply-accumulates (MAC), "
            "comparisons (CMP), neuron updates (NU), exponentials and divisions.";
    }
    // 4. firing rate by layer, 5. by step
    {
        std::vector<std::pair<std::string, std::vector<segments>>> rows;
        for (const auto& l : in.layers)
            if (l.neurons) rows.push_back({l.name, {{{double(l.events) / double(l.neurons), "#59a14f"}}}});
        figs.push_back(bar_figure("firing-rate-per-layer", "Firing rate per layer",
                                  "firing rate (events per neuron per time step)", rows, {{"SNN", "#59a14f"}}));
        figs.back().caption = "Events of each neuron layer divided by its neurons, tokens and time steps.";
        figs.push_back(step_figure(in));
        figs.back().caption = "The same rate in each time step t of the T steps (hover a cell for its value).";
    }
    if (!in.raster.layer.empty()) {
        figs.push_back(raster_figure(in.raster));
        figs.back().caption = "One dot per spike of layer " + escape(in.raster.layer) + " over the first traced " +
                              "sequence (" + std::to_string(in.raster.step.size()) + " events).";
    }
    const report_provenance& pv = in.provenance;
    std::string meta = "<table class=\"meta\">\n";
    auto meta_row = [&](const std::string& k, const std::string& v) {
        if (!v.empty()) meta += "<tr><th>" + escape(k) + "</th><td>" + escape(v) + "</td></tr>\n";
    };
    if (in.has_task) {
        meta_row("task", in.task.name);
        meta_row("metric", in.task.metric);
        meta_row("score (spiking model, simulator)", num("%.4f", in.task.score));
        meta_row("score (ANN twin)", num("%.4f", in.task.ann_score));
        meta_row("score (majority class)", num("%.4f", in.task.majority));
        meta_row("examples", std::to_string(in.task.examples));
    }
    meta_row("model", in.model);
    meta_row("tokens", std::to_string(in.tokens));
    meta_row("checkpoint", pv.checkpoint);
    meta_row("scenario", pv.scenario);
    meta_row("command", pv.command);
    meta_row("wtasim version", WTASIM_VERSION);
    meta_row("created (UTC)", pv.created);
    meta_row("energy profile", profile.name + " (" + profile.source + ")");
    meta += "</table>\n";
    std::string body;
    for (const auto& f : figs) body += figure_html(f);
    return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>wtasim energy report: " +
           escape(in.has_task ? in.task.name : in.model) +
           "</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:62em}pre{background:#f4f4f4;"
           "padding:1em;overflow-x:auto}figure{margin:1.5em 0}figcaption{font-size:0.9em;color:#333}"
           "table.meta "
           "th{text-align:left;padding-right:1em;font-weight:normal;color:#555;white-space:nowrap;vertical-align:top}</"
           "style></head><body>\n"
           "<h1>Energy report: " +
           escape(in.model) + "</h1>\n" + meta + body + "<h2>Tables</h2>\n<pre>" +
           escape(energy_report_markdown(in, profile)) + "</pre>\n</body></html>\n";
}

}  // namespace wtasim
