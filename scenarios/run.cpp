// Run scenarios (scenarios/run.hpp).
#include "scenarios/run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "core/parallel.hpp"
#include "core/progress.hpp"
#include "energy/report.hpp"
#include "scenarios/common.hpp"
#include "sim/trace.hpp"
#include "training/corpus.hpp"
#include "training/objectives.hpp"
#include "training/tokenizer.hpp"

namespace wtasim {
namespace fs = std::filesystem;

run_scenario run_scenario::from_json(const std::string& text, const std::string& origin) {
    const scenario_text file = parse_scenario(text, origin);
    json_reader r = scenario_root(file);
    run_scenario s;
    s.origin = origin;
    s.json = file.json;
    json_reader m = r.object("model");
    if (!m.has("checkpoint")) m.fail("checkpoint", nullptr, "missing: the trained spiking checkpoint to run (HDF5)");
    s.checkpoint = m.get_path("checkpoint", "", true);
    m.finish();
    json_reader in = r.object("input");
    s.text = in.get_string("text", "");
    if (in.has("text") && s.text.empty()) in.fail("text", "", "expected a non-empty prompt");
    s.corpus = in.get_string("corpus", "", {"kjv", "brown", "spam-assassin"});
    if (s.text.empty() == s.corpus.empty())
        in.fail(s.text.empty() ? "text" : "corpus", s.text.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.corpus),
                "give exactly one of /input/text (a prompt) or /input/corpus (sequences of a split)");
    s.generate = in.get_uint("generate", 0, 0, 4096);
    s.split = in.get_string("split", "valid", {"train", "valid", "test"});
    s.data_dir = read_data_dir(in);
    s.sequences = in.get_uint("sequences", 4, 1, 1u << 20);
    s.seq_len = in.get_uint("seq_len", 32, 2, 1u << 20);
    in.finish();
    s.backend = read_sim_backend(r, "backend");
    s.threads = r.get_uint("threads", 0, 0, 1024);
    s.batch = r.get_uint("batch", 0, 0, 1u << 20);
    s.T = r.get_uint("T", 0, 0, 64);
    json_reader e = r.object("energy");
    s.profile = read_energy_profile(e, "profile", "horowitz45-fp32");
    e.finish();
    json_reader t = r.object("trace");
    s.trace = t.get_path("path", "");
    s.trace_sequences = t.get_uint_list("sequences");
    s.trace_layers = t.get_string_list("layers");
    s.trace_membranes = t.get_bool("membranes", false);
    if (s.trace.empty() && (!s.trace_sequences.empty() || !s.trace_layers.empty() || s.trace_membranes))
        t.fail("path", nullptr, "missing: sequences, layers and membranes choose what the trace at this path keeps");
    t.finish();
    json_reader rep = r.object("report");
    s.report_json = rep.get_path("json", "");
    s.report_md = rep.get_path("markdown", "");
    s.report_html = rep.get_path("html", "");
    rep.finish();
    r.finish();
    return s;
}

run_scenario run_scenario::load(const std::string& path) {
    return from_json(json_reader::read_file(path, "scenario"), path);
}

namespace {
void write_file(const std::string& path, const std::string& text) {
    if (!path.empty()) write_text_atomically(path, text);
}

std::string quote(const std::string& s) {
    return nlohmann::json(s).dump();
}
}  // namespace

std::string simulation_speed(const std::vector<std::vector<std::int32_t>>& seqs, double seconds,
                             const std::string& backend, bool traced) {
    std::size_t tokens = 0;
    for (const auto& q : seqs) tokens += q.size();
    const sequence_schedule schedule = sim_backend_named(backend).schedule;
    const std::size_t threads = traced || schedule == sequence_schedule::serial
                                    ? 1
                                    : std::min(max_threads(), std::max<std::size_t>(1, seqs.size()));
    const std::string where = schedule == sequence_schedule::device
                                  ? "on the GPU"
                                  : std::to_string(threads) + (threads == 1 ? " thread" : " threads");
    char b[240];
    std::snprintf(b, sizeof b,
                  "simulation: %zu sequence%s, %zu tokens in %.3f s wall: %.0f tokens/s (%s, %s backend%s)",
                  seqs.size(), seqs.size() == 1 ? "" : "s", tokens, seconds, double(tokens) / std::max(seconds, 1e-9),
                  where.c_str(), backend.c_str(), traced ? ", recording a trace" : "");
    return b;
}

int run(const run_scenario& s, std::ostream& out) {
    thread_limit limit(s.threads);
    // outputs are checked before the (long) simulation: none may be an input, or another output, or a file
    // that cannot be replaced
    const bool profile_is_file = s.profile.find('/') != std::string::npos || s.profile.ends_with(".json");
    const std::string where = s.origin == "command line" ? "" : s.origin + ": ";
    const std::vector<named_path> outputs = {{where + "trace", s.trace},
                                             {where + "JSON report", s.report_json},
                                             {where + "Markdown report", s.report_md},
                                             {where + "HTML report", s.report_html}};
    refuse_overwriting_inputs(outputs, {{"checkpoint", s.checkpoint},
                                        {"scenario file", s.origin},
                                        {"energy profile", profile_is_file ? s.profile : ""}});
    for (const auto& o : outputs)
        if (!o.second.empty()) check_replaceable(o.second);
    const checkpoint c = load_checkpoint(s.checkpoint);
    if (c.tokenizer.empty()) throw io_error(s.checkpoint + ": /tokenizer/model is missing");
    sim_network net = sim_network::from_checkpoint(c, s.checkpoint);
    if (s.T != 0 && s.T != net.cfg.T) {
        out << "note: T = " << s.T << " instead of the trained T = " << net.cfg.T << "\n";
        net.cfg.T = s.T;
    }
    const tokenizer tok = tokenizer::from_bytes(c.tokenizer, s.checkpoint);
    const energy_profile profile = energy_profile_from(s.profile);
    const model_config& cfg = net.cfg;
    const std::size_t V = cfg.vocab;
    if (tok.vocab_size() != V)
        throw io_error(s.checkpoint + ": the tokenizer has " + std::to_string(tok.vocab_size()) +
                       " pieces, @config/vocab = " + std::to_string(V));

    std::vector<std::vector<std::int32_t>> seqs;
    if (!s.text.empty()) {
        std::vector<std::int32_t> t{tokenizer::bos_id};
        for (auto id : tok.encode(s.text)) t.push_back(id);
        if (t.size() > cfg.max_len) {  // keep the end of the prompt: the next token follows it
            out << "note: the prompt has " << t.size() << " tokens; the last " << cfg.max_len
                << " (the model's max_len) are used\n";
            t.erase(t.begin(), t.end() - static_cast<std::ptrdiff_t>(cfg.max_len));
        }
        seqs.push_back(t);
    } else {
        if (s.seq_len > cfg.max_len)
            throw config_error(s.origin + ": /input/seq_len = " + std::to_string(s.seq_len) +
                               ", longer than the model's max_len = " + std::to_string(cfg.max_len));
        const auto docs = select(read_corpus(s.corpus, s.data_dir), s.split == "train"   ? split::train
                                                                    : s.split == "valid" ? split::valid
                                                                                         : split::test);
        std::vector<std::int32_t> stream;
        for (const auto& d : docs) {
            stream.push_back(tokenizer::bos_id);
            for (auto id : tok.encode(d.text)) stream.push_back(id);
            stream.push_back(tokenizer::eos_id);
            if (stream.size() >= s.sequences * s.seq_len) break;
        }
        for (std::size_t i = 0; i < s.sequences && (i + 1) * s.seq_len <= stream.size(); ++i)
            seqs.emplace_back(stream.begin() + static_cast<std::ptrdiff_t>(i * s.seq_len),
                              stream.begin() + static_cast<std::ptrdiff_t>((i + 1) * s.seq_len));
        if (seqs.empty()) throw config_error(s.origin + ": /input: the " + s.split + " split is too short");
    }
    std::vector<sim_result> results;
    const auto t0 = std::chrono::steady_clock::now();
    double seconds = 0;  // the simulation's wall time (writing a trace is not part of it)
    auto simulating = std::make_unique<progress>("simulate", seqs.size(), "sequences", "tokens");
    if (s.trace.empty()) {
        const std::size_t batch = s.batch == 0 ? seqs.size() : s.batch;
        for (std::size_t b = 0; b < seqs.size(); b += batch) {
            const std::vector<std::vector<std::int32_t>> part(
                seqs.begin() + static_cast<std::ptrdiff_t>(b),
                seqs.begin() + static_cast<std::ptrdiff_t>(std::min(seqs.size(), b + batch)));
            for (auto& r : simulate_batch(net, part, sim_backend_named(s.backend).schedule, simulating.get()))
                results.push_back(std::move(r));
        }
    } else {
        // the chosen layers and sequences must exist (the layer names depend on the checkpoint's depth)
        const sim_result probe = simulate(net, {seqs[0][0]}, true);
        for (std::size_t i = 0; i < s.trace_layers.size(); ++i) {
            const bool known = std::any_of(probe.spikes.begin(), probe.spikes.end(),
                                           [&](const layer_events& e) { return e.name == s.trace_layers[i]; });
            if (!known) {
                std::string names;
                for (const auto& e : probe.spikes) names += (names.empty() ? "" : ", ") + e.name;
                throw config_error(s.origin + ": /trace/layers/" + std::to_string(i) + " = \"" + s.trace_layers[i] +
                                   "\", no such neuron layer; this model has " + names);
            }
        }
        for (std::size_t i = 0; i < s.trace_sequences.size(); ++i)
            if (s.trace_sequences[i] >= seqs.size())
                throw config_error(s.origin + ": /trace/sequences/" + std::to_string(i) + " = " +
                                   std::to_string(s.trace_sequences[i]) + ", the run has " +
                                   std::to_string(seqs.size()) + " sequence(s)");
        const sequence_schedule schedule = sim_backend_named(s.backend).schedule;
        if (schedule == sequence_schedule::device || schedule == sequence_schedule::emulated) {
            // the kernel engine hands every step's spikes back with the counts
            results = simulate_batch(net, seqs, schedule, simulating.get(), true, s.trace_membranes);
        } else {
            for (const auto& q : seqs) {
                results.push_back(simulate(net, q, true, s.trace_membranes));
                simulating->add(1, q.size());
            }
        }
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        write_trace(s.trace, net, seqs, results, s.json, trace_selection{s.trace_sequences, s.trace_layers},
                    trace_labels{tok.piece_texts(), &profile});
    }

    if (s.trace.empty()) seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    simulating.reset();
    out << "wtasim run: " << s.origin << ": " << s.checkpoint << " (step " << c.step << "), "
        << (cfg.causal ? "WD" : "WE") << "-Spikingformer D " << cfg.D << ", L " << cfg.L << ", T " << cfg.T << ", "
        << attention_kind_name(cfg.block.attn.kind) << " attention, event-driven (" << s.backend << ")\n";
    out << simulation_speed(seqs, seconds, s.backend, !s.trace.empty()) << "\n";
    char buf[200];
    if (!cfg.causal) {
        out << "WE (bidirectional) model: every position sees the whole sequence, so no next-token prediction or "
               "causal perplexity is shown; the energy report follows\n";
    } else if (!s.text.empty()) {
        const auto& r = results[0];
        const std::size_t last = seqs[0].size() - 1;
        const float* lg = r.logits.data() + last * V;
        const float mx = *std::max_element(lg, lg + V);
        double z = 0;
        for (std::size_t v = 0; v < V; ++v) z += std::exp(double(lg[v] - mx));
        std::vector<std::pair<float, std::int32_t>> top;
        for (std::size_t v = 0; v < V; ++v) top.push_back({lg[v], static_cast<std::int32_t>(v)});
        const std::size_t shown = std::min<std::size_t>(5, V);
        std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(shown), top.end(), std::greater<>());
        out << "prompt: " << quote(s.text) << " (" << seqs[0].size() << " tokens)\nnext token:";
        for (std::size_t i = 0; i < shown; ++i) {
            std::snprintf(buf, sizeof buf, " %s %.3f", quote(tok.decode({top[i].second})).c_str(),
                          std::exp(double(top[i].first - mx)) / z);
            out << buf << (i + 1 < shown ? "," : "\n");
        }
        if (s.generate > 0) {
            std::vector<std::int32_t> seq = seqs[0];
            for (std::size_t g = 0; g < s.generate && seq.size() < cfg.max_len; ++g) {
                const sim_result step =
                    std::move(simulate_batch(net, {seq}, sim_backend_named(s.backend).schedule).front());
                const float* l = step.logits.data() + (seq.size() - 1) * V;
                seq.push_back(static_cast<std::int32_t>(std::max_element(l, l + V) - l));
            }
            out << "greedy continuation: " << quote(tok.decode(std::vector<std::int32_t>(seq.begin() + 1, seq.end())))
                << "\n";
            if (seq.size() - seqs[0].size() < s.generate)
                out << "note: generated " << seq.size() - seqs[0].size() << " of " << s.generate
                    << " tokens: the model's max_len is " << cfg.max_len << " tokens, prompt included\n";
        }
    } else {
        // causal LM loss of the simulator's own logits on the windows (the task metric of a corpus run)
        double nats = 0;
        std::size_t n = 0;
        for (std::size_t q = 0; q < seqs.size(); ++q) {
            const auto targets = clm_targets(seqs[q], {}, 1, seqs[q].size());
            std::vector<float> d(results[q].logits.size());
            const loss_result lr = cross_entropy(d.data(), results[q].logits.data(), targets.data(), seqs[q].size(), V);
            nats += lr.loss * double(lr.count);
            n += lr.count;
        }
        std::snprintf(buf, sizeof buf,
                      "%s split of %s: %zu sequences x %zu tokens; perplexity %.2f (%zu predictions)\n",
                      s.split.c_str(), s.corpus.c_str(), seqs.size(), s.seq_len, std::exp(nats / double(n)), n);
        out << buf;
    }

    energy_inputs in = simulated_energy(c, cfg, seqs, results);
    in.provenance.checkpoint = s.checkpoint;
    in.provenance.scenario = s.origin;
    in.provenance.command = s.origin == "command line" ? "wtasim simulate" : "wtasim run";
    if (!s.report_html.empty())  // the raster of the first sequence (recorded again unless a trace did)
        in.raster = raster_of(results[0].spikes.empty() ? simulate(net, seqs[0], true) : results[0], seqs[0],
                              tok.piece_texts(), cfg.T);
    out << "\n" << energy_report_markdown(in, profile);
    write_file(s.report_json, energy_report_json(in, profile));
    write_file(s.report_md, energy_report_markdown(in, profile));
    write_file(s.report_html, energy_report_html(in, profile));
    for (const auto& [what, path] :
         {std::pair{"trace", s.trace}, std::pair{"JSON report", s.report_json},
          std::pair{"Markdown report", s.report_md}, std::pair{"HTML report", s.report_html}})
        if (!path.empty()) out << what << ": " << path << "\n";
    return 0;
}

}  // namespace wtasim
