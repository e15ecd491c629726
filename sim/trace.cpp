// HDF5 traces (sim/trace.hpp).
#include "sim/trace.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "model/h5.hpp"

namespace wtasim {
namespace {
std::vector<std::uint64_t> class_table(const std::vector<op_counts>& rows) {
    std::vector<std::uint64_t> t;
    for (const auto& r : rows) t.insert(t.end(), r.n.begin(), r.n.end());
    return t;
}

nlohmann::json class_names() {
    nlohmann::json j = nlohmann::json::array();
    for (std::size_t c = 0; c < n_op_classes; ++c) j.push_back(std::string(op_class_name(static_cast<op_class>(c))));
    return j;
}
}  // namespace

void write_trace(const std::string& path, const sim_network& net,
                 const std::vector<std::vector<std::int32_t>>& sequences, const std::vector<sim_result>& results,
                 const std::string& scenario_json, const trace_selection& keep) {
    const model_config& cfg = net.cfg;
    write_atomically(path, [&](const std::string& tmp) {
        h5::file f(tmp, h5::mode::create, path);
        f.set_attr("/", "format", std::string("wtasim-trace"));
        f.set_attr("/", "format_version", trace_format_version);
        f.set_attr("/", "scenario", scenario_json);
        f.set_attr("/", "config", cfg.to_json());
        std::vector<op_counts> layer_sum, step_sum(cfg.T);
        nlohmann::json names = nlohmann::json::array();
        bool first = true;
        for (std::size_t s = 0; s < results.size(); ++s) {
            if (!keep.sequences.empty() &&
                std::find(keep.sequences.begin(), keep.sequences.end(), s) == keep.sequences.end())
                continue;
            const sim_result& r = results[s];
            if (r.spikes.empty()) throw internal_error("write_trace: results were simulated without recording");
            const std::string seq = "/sequences/" + std::to_string(s);
            const std::size_t N = sequences[s].size();
            f.write(seq + "/tokens", {N}, sequences[s].data(), true);
            f.write(seq + "/logits", {r.logits.size() / net.head_outputs, net.head_outputs}, r.logits.data(), true);
            for (const auto& ev : r.spikes) {
                if (!keep.layers.empty() &&
                    std::find(keep.layers.begin(), keep.layers.end(), ev.name) == keep.layers.end())
                    continue;
                const std::string g = seq + "/layers/" + ev.name;
                if (!ev.membrane.empty()) f.write(g + "/membrane", {cfg.T, N, ev.n_neurons}, ev.membrane.data(), true);
                f.create_group(g);
                f.set_attr(g, "n_neurons", static_cast<std::int64_t>(ev.n_neurons));
                f.set_attr(g, "n_tokens", static_cast<std::int64_t>(N));
                f.set_attr(g, "T", static_cast<std::int64_t>(cfg.T));
                f.write(g + "/spikes/step", {ev.step.size()}, ev.step.data(), true);
                f.write(g + "/spikes/token", {ev.token.size()}, ev.token.data(), true);
                f.write(g + "/spikes/neuron", {ev.neuron.size()}, ev.neuron.data(), true);
                std::vector<std::uint16_t> counts(cfg.T * N, 0);
                for (std::size_t e = 0; e < ev.step.size(); ++e) {
                    auto& c = counts[ev.step[e] * N + ev.token[e]];
                    c = static_cast<std::uint16_t>(std::min<std::uint32_t>(65535u, c + 1u));
                }
                f.write(g + "/counts", {cfg.T, N}, counts.data(), true);
            }
            if (!r.winners.empty()) {
                const std::size_t per_block = cfg.T * cfg.H * N * static_cast<std::size_t>(cfg.block.attn.k);
                const std::size_t kw = static_cast<std::size_t>(cfg.block.attn.k);
                for (std::size_t l = 0; l < cfg.L; ++l) {
                    const std::string w = seq + "/attention/blocks." + std::to_string(l) + "/winners";
                    f.write(w, {cfg.T, cfg.H, N, kw}, r.winners.data() + l * per_block, true);
                    f.set_attr(w, "no_winner_fraction",
                               no_winner_fraction(r.winners.data() + l * per_block, per_block / kw, kw));
                }
            }
            std::vector<op_counts> per_layer;
            for (const auto& l : r.layers) per_layer.push_back(l.ops);
            if (first) {
                layer_sum.assign(per_layer.size(), {});
                for (const auto& l : r.layers) names.push_back(l.name);
                first = false;
            }
            for (std::size_t i = 0; i < per_layer.size(); ++i) layer_sum[i] += per_layer[i];
            for (std::size_t t = 0; t < cfg.T; ++t) step_sum[t] += r.per_step[t];
            f.write(seq + "/energy/layers", {per_layer.size(), n_op_classes}, class_table(per_layer).data());
            f.write(seq + "/energy/steps", {cfg.T, n_op_classes}, class_table(r.per_step).data());
        }
        f.write("/energy/layers", {layer_sum.size(), n_op_classes}, class_table(layer_sum).data());
        f.write("/energy/steps", {cfg.T, n_op_classes}, class_table(step_sum).data());
        f.set_attr("/energy", "layer_names", names.dump());
        f.set_attr("/energy", "classes", class_names().dump());
        f.flush();
        f.close();
    });
}

void print_trace_summary(const std::string& path, std::ostream& out) {
    const h5::file f(path, h5::mode::read);
    if (!f.has_attr("/", "format") || f.attr_string("/", "format") != "wtasim-trace")
        throw io_error(path + ": not a wtasim trace (root attribute format != \"wtasim-trace\")");
    // a damaged or forged trace is an error naming what is wrong, never a read past an array
    const auto need = [&](bool ok, const std::string& what) {
        if (!ok) throw io_error(path + ": " + what + " (a damaged trace, or not one wtasim wrote)");
    };
    need(f.exists("/sequences"), "/sequences is missing");
    const auto sequences = f.children("/sequences");
    out << "trace " << path << ": " << sequences.size() << " sequence(s)\n";
    if (sequences.empty()) return;
    const std::string seq = "/sequences/" + sequences.front();
    char line[200];
    std::string busiest;
    double best = -1;
    out << "layer                         events   neurons x steps   firing rate\n";
    for (const auto& layer : f.children(seq + "/layers")) {
        const std::string g = seq + "/layers/" + layer;
        const auto n_neurons = f.attr_int(g, "n_neurons"), n_tokens = f.attr_int(g, "n_tokens"), T = f.attr_int(g, "T");
        const auto step_shape = f.shape(g + "/spikes/step");
        need(step_shape.size() == 1, g + "/spikes/step is not one-dimensional");
        need(n_neurons > 0 && n_tokens > 0 && T > 0, g + ": n_neurons, n_tokens and T must be > 0");
        const auto events = step_shape[0];
        const double slots = double(n_neurons * n_tokens * T), rate = slots > 0 ? double(events) / slots : 0.0;
        std::snprintf(line, sizeof line, "%-28s %8zu %17.0f %13.4f\n", layer.c_str(), events, slots, rate);
        out << line;
        if (rate > best) best = rate, busiest = layer;
    }
    // WTA: per block, the fraction of queries (steps x heads x tokens of every kept sequence) with no winner
    const std::string attn = seq + "/attention";
    if (f.exists(attn)) {
        out << "\nqueries without a winner (all kept sequences):";
        for (const auto& block : f.children(attn)) {
            std::size_t queries = 0, empty = 0;
            for (const auto& s : sequences) {
                const std::string w = "/sequences/" + s + "/attention/" + block + "/winners";
                if (!f.exists(w)) continue;
                const auto shape = f.shape(w);
                need(!shape.empty() && shape.back() > 0, w + " has no winner axis");
                const auto winners = f.read_ints(w);
                const std::size_t n = winners.size() / shape.back();
                queries += n;
                empty += static_cast<std::size_t>(
                    std::llround(no_winner_fraction(winners.data(), n, shape.back()) * double(n)));
            }
            std::snprintf(line, sizeof line, " %s %.4f", block.c_str(),
                          queries ? double(empty) / double(queries) : 0.0);
            out << line;
        }
        out << "\n";
    }
    // energy totals of the trace (all kept sequences), per operation class
    const auto classes = nlohmann::json::parse(f.attr_string("/energy", "classes"), nullptr, false);
    const auto shape_e = f.shape("/energy/layers");
    need(shape_e.size() == 2, "/energy/layers is not a table of layers x operation classes");
    need(classes.is_array() && classes.size() == shape_e[1], "/energy@classes does not name the table's columns");
    for (const auto& c : classes) need(c.is_string(), "/energy@classes holds a non-string");
    const auto energy = f.read_uints("/energy/layers");  // uint64 read through uint32: fine below 2^32 per cell
    out << "\noperations (all kept sequences):";
    for (std::size_t c = 0; c < shape_e[1]; ++c) {
        std::uint64_t total = 0;
        for (std::size_t l = 0; l < shape_e[0]; ++l) total += energy[l * shape_e[1] + c];
        if (total) out << " " << classes[c].get<std::string>() << " " << total;
    }
    out << "\n";
    need(!busiest.empty(), seq + "/layers is empty");
    const auto table = f.read_uints("/sequences/" + sequences.front() + "/layers/" + busiest + "/counts");
    const auto shape = f.shape(seq + "/layers/" + busiest + "/counts");
    need(shape.size() == 2 && table.size() == shape[0] * shape[1], seq + "/layers/" + busiest + "/counts: bad shape");
    out << "\nraster of " << busiest << " (rows: steps; columns: tokens; ' .:-=+*#%@' by spikes per token)\n";
    const char* ramp = " .:-=+*#%@";
    const double n_neurons = double(f.attr_int(seq + "/layers/" + busiest, "n_neurons"));
    for (std::size_t t = 0; t < shape[0]; ++t) {
        std::string row = "  t=" + std::to_string(t) + " |";
        for (std::size_t n = 0; n < std::min<std::size_t>(shape[1], 100); ++n) {
            const double frac = double(table[t * shape[1] + n]) / n_neurons;
            row += ramp[std::min(9, static_cast<int>(frac * 9.0 + (frac > 0 ? 0.999 : 0.0)))];
        }
        out << row << "|\n";
    }
}

}  // namespace wtasim
