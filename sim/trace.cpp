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
                 const std::string& scenario_json, const trace_selection& keep, const trace_labels& labels) {
    const model_config& cfg = net.cfg;
    const energy_profile* profile = labels.profile;
    write_atomically(path, [&](const std::string& tmp) {
        h5::file f(tmp, h5::mode::create, path);
        const auto describe = [&](const std::string& name, const std::string& units, const std::string& what) {
            f.set_attr(name, "units", units);
            f.set_attr(name, "description", what);
        };
        f.set_attr("/", "format", std::string("wtasim-trace"));
        f.set_attr("/", "format_version", trace_format_version);
        f.set_attr("/", "scenario", scenario_json);
        f.set_attr("/", "config", cfg.to_json());
        f.set_attr("/", "description",
                   std::string("a run of the wtasim event-driven simulator: per sequence the tokens, the head's "
                               "outputs, every neuron layer's spikes and the operations counted per layer and step "
                               "(docs/model.md §8); every dataset has units and description attributes"));
        if (profile) f.set_attr("/", "energy_profile", profile->name);
        // one energy (pJ) table beside each count table, under the run's profile
        const auto energy_pj = [&](const std::vector<op_counts>& rows) {
            std::vector<double> t;
            for (const auto& r : rows)
                for (std::size_t c = 0; c < n_op_classes; ++c)
                    t.push_back(double(r.n[c]) * profile->cost(static_cast<op_class>(c)));
            return t;
        };
        std::vector<std::string> tables;  // every [layer | step, class] table, for the dimension scales
        const auto write_tables = [&](const std::string& g, const std::vector<op_counts>& per_layer,
                                      const std::vector<op_counts>& per_step, const std::string& scope) {
            f.write(g + "/layers", {per_layer.size(), n_op_classes}, class_table(per_layer).data());
            describe(
                g + "/layers", "operations",
                "operations per layer (rows, see dimension scale layer) and class (columns, scale class), " + scope);
            f.write(g + "/steps", {per_step.size(), n_op_classes}, class_table(per_step).data());
            describe(g + "/steps", "operations",
                     "operations per time step (rows; the embedding counts in step 0) and class (columns), " + scope);
            tables.push_back(g + "/layers");
            tables.push_back(g + "/steps");
            if (!profile) return;
            f.write(g + "/layers_pj", {per_layer.size(), n_op_classes}, energy_pj(per_layer).data());
            describe(g + "/layers_pj", "pJ",
                     "energy of " + g + "/layers under profile " + profile->name + ", " + scope);
            f.write(g + "/steps_pj", {per_step.size(), n_op_classes}, energy_pj(per_step).data());
            describe(g + "/steps_pj", "pJ", "energy of " + g + "/steps under profile " + profile->name + ", " + scope);
            tables.push_back(g + "/layers_pj");
            tables.push_back(g + "/steps_pj");
        };
        std::vector<op_counts> layer_sum, step_sum(cfg.T);
        std::vector<std::string> names;
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
            describe(seq + "/tokens", "token id", "the sequence's token ids (2 = <s>); their text is token_text");
            if (!labels.pieces.empty()) {
                std::vector<std::string> text;
                for (auto id : sequences[s])
                    text.push_back(id >= 0 && std::size_t(id) < labels.pieces.size() ? labels.pieces[std::size_t(id)]
                                                                                     : "");
                f.write_strings(seq + "/token_text", text);
                describe(seq + "/token_text", "text",
                         "each token's piece of the tokenizer, its word-start mark written as a space");
            }
            const std::size_t rows = r.logits.size() / net.head_outputs;
            f.write(seq + "/logits", {rows, net.head_outputs}, r.logits.data(), true);
            describe(seq + "/logits", "1",
                     net.task_head
                         ? "task head outputs, [" + std::string(net.pooled ? "1 (pooled)" : "token") + ", output]"
                         : "LM logits (unnormalised log-probabilities of the next token), [token, vocabulary]");
            for (const auto& ev : r.spikes) {
                if (!keep.layers.empty() &&
                    std::find(keep.layers.begin(), keep.layers.end(), ev.name) == keep.layers.end())
                    continue;
                const std::string g = seq + "/layers/" + ev.name;
                if (!ev.membrane.empty()) {
                    f.write(g + "/membrane", {cfg.T, N, ev.n_neurons}, ev.membrane.data(), true);
                    describe(g + "/membrane", "1",
                             "charged membrane potential (LIF H, NI-LIF U) before firing and reset, in the model's "
                             "dimensionless units (the layer fires at its v_th), [step, token, neuron]");
                }
                f.create_group(g);
                f.set_attr(g, "n_neurons", static_cast<std::int64_t>(ev.n_neurons));
                f.set_attr(g, "n_tokens", static_cast<std::int64_t>(N));
                f.set_attr(g, "T", static_cast<std::int64_t>(cfg.T));
                f.write(g + "/spikes/step", {ev.step.size()}, ev.step.data(), true);
                describe(g + "/spikes/step", "time step", "the time step of each spike (events sorted by step, token)");
                f.write(g + "/spikes/token", {ev.token.size()}, ev.token.data(), true);
                describe(g + "/spikes/token", "token position", "the token position of each spike");
                f.write(g + "/spikes/neuron", {ev.neuron.size()}, ev.neuron.data(), true);
                describe(g + "/spikes/neuron", "neuron index", "the neuron of each spike, 0 .. n_neurons - 1");
                std::vector<std::uint16_t> counts(cfg.T * N, 0);
                for (std::size_t e = 0; e < ev.step.size(); ++e) {
                    auto& c = counts[ev.step[e] * N + ev.token[e]];
                    c = static_cast<std::uint16_t>(std::min<std::uint32_t>(65535u, c + 1u));
                }
                f.write(g + "/counts", {cfg.T, N}, counts.data(), true);
                describe(g + "/counts", "spikes",
                         "spikes per time step (rows) and token (columns) of the layer's n_neurons neurons (capped at "
                         "65535); opens as a heat map");
            }
            if (!r.winners.empty()) {
                const std::size_t per_block = cfg.T * cfg.H * N * static_cast<std::size_t>(cfg.block.attn.k);
                const std::size_t kw = static_cast<std::size_t>(cfg.block.attn.k);
                for (std::size_t l = 0; l < cfg.L; ++l) {
                    const std::string w = seq + "/attention/blocks." + std::to_string(l) + "/winners";
                    f.write(w, {cfg.T, cfg.H, N, kw}, r.winners.data() + l * per_block, true);
                    describe(w, "token position",
                             "the key position each query selected (k-WTA), [step, head, query token, k]; -1 = no "
                             "winner (no key reached the threshold)");
                    f.set_attr(w, "no_winner", std::int64_t{-1});
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
            write_tables(seq + "/energy", per_layer, r.per_step, "this sequence");
        }
        write_tables("/energy", layer_sum, step_sum, "summed over the kept sequences");
        // the tables' rows and columns, named: JSON attributes (as before) and dimension scales
        f.set_attr("/energy", "layer_names", nlohmann::json(names).dump());
        f.set_attr("/energy", "classes", class_names().dump());
        f.write_strings("/energy/layer", names);
        describe("/energy/layer", "name", "the layers in network order: the rows of every */energy/layers table");
        std::vector<std::string> classes;
        for (const auto& c : class_names()) classes.push_back(c.get<std::string>());
        f.write_strings("/energy/class", classes);
        describe("/energy/class", "name",
                 "operation classes (docs/model.md §7): the columns of every */energy/layers and */energy/steps table");
        std::vector<std::int32_t> steps(cfg.T);
        for (std::size_t t = 0; t < cfg.T; ++t) steps[t] = static_cast<std::int32_t>(t);
        f.write("/energy/step", {cfg.T}, steps.data());
        describe("/energy/step", "time step", "the rows of every */energy/steps table");
        for (const auto& t : tables) {
            const bool by_layer = t.find("/layers") != std::string::npos;
            f.attach_scale(t, 0, by_layer ? "/energy/layer" : "/energy/step", by_layer ? "layer" : "step");
            f.attach_scale(t, 1, "/energy/class", "class");
        }
        f.flush();
        f.close();
    });
}

void print_trace_summary(const std::string& path, std::ostream& out, const std::vector<std::string>& raster_layers) {
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
    // network order: the rows of /energy/layer (or the older JSON attribute); layers it does not name follow
    std::vector<std::string> order, layers = f.children(seq + "/layers");
    if (f.exists("/energy/layer")) {
        order = f.read_strings("/energy/layer");
    } else if (f.has_attr("/energy", "layer_names")) {
        const auto j = nlohmann::json::parse(f.attr_string("/energy", "layer_names"), nullptr, false);
        if (j.is_array())
            for (const auto& n : j)
                if (n.is_string()) order.push_back(n.get<std::string>());
    }
    std::stable_sort(layers.begin(), layers.end(), [&](const std::string& a, const std::string& b) {
        const auto at = [&](const std::string& n) { return std::find(order.begin(), order.end(), n) - order.begin(); };
        return at(a) < at(b);
    });
    out << "layer (network order)         events   neurons x steps   firing rate\n";
    for (const auto& layer : layers) {
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
    if (f.exists("/energy/layers_pj")) {
        double total = 0;
        for (double v : f.read_doubles("/energy/layers_pj")) total += v;
        std::snprintf(line, sizeof line, "energy (all kept sequences, profile %s): %.3f nJ\n",
                      f.has_attr("/", "energy_profile") ? f.attr_string("/", "energy_profile").c_str() : "?",
                      total * 1e-3);
        out << line;
    }
    need(!busiest.empty(), seq + "/layers is empty");
    std::vector<std::string> chosen = raster_layers;
    if (chosen.empty()) chosen.push_back(busiest);
    for (const auto& layer : chosen)
        if (std::find(layers.begin(), layers.end(), layer) == layers.end()) {
            std::string names;
            for (const auto& l : layers) names += (names.empty() ? "" : ", ") + l;
            throw config_error("--layer: \"" + layer + "\" is not a layer of " + path + "; it has " + names);
        }
    const std::string text_path = seq + "/token_text";
    const std::vector<std::string> text = f.exists(text_path) ? f.read_strings(text_path) : std::vector<std::string>{};
    for (const auto& layer : chosen) {
        const std::string g = seq + "/layers/" + layer;
        const auto table = f.read_uints(g + "/counts");
        const auto shape = f.shape(g + "/counts");
        need(shape.size() == 2 && table.size() == shape[0] * shape[1], g + "/counts: bad shape");
        out << "\nraster of " << layer << ", sequence " << sequences.front()
            << " (rows: steps; columns: tokens; ' .:-=+*#%@' by the fraction of its neurons that fire)\n";
        const char* ramp = " .:-=+*#%@";
        const double n_neurons = double(f.attr_int(g, "n_neurons"));
        const std::size_t shown = std::min<std::size_t>(shape[1], 100);
        for (std::size_t t = 0; t < shape[0]; ++t) {
            std::string row = "  t=" + std::to_string(t) + " |";
            for (std::size_t n = 0; n < shown; ++n) {
                const double frac = double(table[t * shape[1] + n]) / n_neurons;
                row += ramp[std::min(9, static_cast<int>(frac * 9.0 + (frac > 0 ? 0.999 : 0.0)))];
            }
            out << row << "|\n";
        }
        if (!text.empty()) {  // the first tokens' text, so that a column can be found
            std::string words = "  tokens:";
            for (std::size_t n = 0; n < std::min<std::size_t>(text.size(), 12); ++n) words += " [" + text[n] + "]";
            if (text.size() > 12) words += " ...";
            out << words << "\n";
        }
    }
}

}  // namespace wtasim
