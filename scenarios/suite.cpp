// The task suite (`wtasim suite`, scenarios/task_run.hpp): every task scenario in turn, then held-out LM
// perplexity of the pretrained models, and one Markdown table of score and energy per example against the
// ANN twin and the majority class.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <ostream>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "core/parallel.hpp"
#include "core/progress.hpp"
#include "energy/report.hpp"
#include "scenarios/common.hpp"
#include "scenarios/run.hpp"
#include "scenarios/suite.hpp"
#include "scenarios/task_run.hpp"
#include "scenarios/train.hpp"
#include "sim/network.hpp"
#include "training/corpus.hpp"
#include "training/trainer.hpp"

namespace wtasim {
namespace fs = std::filesystem;
namespace {

std::string cell(const char* f, double v) {
    if (std::isnan(v)) return "—";
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

struct lm_row {
    double snn_ppl = std::nan(""), ann_ppl = std::nan("");
    double snn_paper_pj = 0, snn_full_pj = 0, ann_paper_pj = 0, ann_full_pj = 0;  // per token
    std::size_t tokens = 0;
};

// Held-out perplexity (trainer forward, `batches` windows of the pretrained scenario's test split) and the
// simulator's energy per token on `sequences` windows of it.
lm_row held_out_lm(const std::string& spiking, const std::string& ann, const std::string& corpus,
                   const std::string& data_dir, std::size_t sequences, std::size_t batches,
                   const energy_profile& profile, const std::string& backend, std::ostream& out) {
    lm_row row;
    std::ostringstream quiet;
    row.snn_ppl = evaluate_checkpoint_file(spiking, "test", batches, quiet).perplexity;
    if (!ann.empty()) row.ann_ppl = evaluate_checkpoint_file(ann, "test", batches, quiet).perplexity;
    const checkpoint c = load_checkpoint(spiking);
    const sim_network net = sim_network::from_checkpoint(c, spiking);
    const tokenizer tok = tokenizer::from_bytes(c.tokenizer, spiking);
    const std::size_t N = net.cfg.max_len;
    std::vector<std::int32_t> stream;
    for (const auto& d : select(read_corpus(corpus, data_dir), split::test)) {
        stream.push_back(tokenizer::bos_id);
        for (auto id : tok.encode(d.text)) stream.push_back(id);
        stream.push_back(tokenizer::eos_id);
        if (stream.size() >= sequences * N) break;
    }
    std::vector<std::vector<std::int32_t>> seqs;
    for (std::size_t i = 0; i < sequences && (i + 1) * N <= stream.size(); ++i)
        seqs.emplace_back(stream.begin() + std::ptrdiff_t(i * N), stream.begin() + std::ptrdiff_t((i + 1) * N));
    if (seqs.empty()) throw config_error("suite: the " + corpus + " test split is shorter than one window");
    progress shown("simulate the held-out LM", seqs.size(), "sequences", "tokens");
    const auto results = simulate_batch(net, seqs, sim_backend_named(backend).schedule, &shown);
    const energy_inputs in = simulated_energy(c, net.cfg, seqs, results);
    op_counts total;
    for (const auto& l : in.layers) total += l.ops;
    row.tokens = in.tokens;
    const double n = double(in.tokens);
    row.snn_paper_pj = paper_convention_energy_pj(total) / n;
    row.snn_full_pj = profile.energy_pj(total) / n;
    row.ann_paper_pj = paper_convention_energy_pj(in.ann) / n;
    row.ann_full_pj = profile.energy_pj(in.ann) / n;
    out << "held-out LM: perplexity " << cell("%.2f", row.snn_ppl) << " (spiking), " << cell("%.2f", row.ann_ppl)
        << " (ANN twin); " << in.tokens << " tokens simulated\n";
    return row;
}

}  // namespace

suite_scenario suite_scenario::from_json(const std::string& text, const std::string& origin, const task_overrides& o) {
    suite_scenario s;
    s.origin = origin;
    const std::string& path = origin;
    const scenario_text file = parse_scenario(text, origin);
    json_reader r = scenario_root(file);
    s.tasks = r.get_string_list("tasks");
    for (std::size_t i = 0; i < s.tasks.size(); ++i) {
        const std::string given = s.tasks[i];
        s.tasks[i] = r.resolve(given);
        std::error_code err;
        if (!fs::exists(s.tasks[i], err))
            throw config_error(path + ": /tasks/" + std::to_string(i) + " = \"" + given + "\", " +
                               (err ? err.message() : "no such file") +
                               (given == s.tasks[i] ? "" : " (" + s.tasks[i] + ")"));
    }
    json_reader lm = r.object("lm");
    s.lm_spiking = lm.get_path("spiking", "", true);
    s.lm_ann = lm.get_path("ann", "", true);
    s.corpus = lm.get_string("corpus", "kjv", {"kjv", "brown", "spam-assassin"});
    s.data_dir = read_data_dir(lm);
    s.sequences = lm.get_uint("sequences", 32, 1, 1u << 20);
    s.batches = lm.get_uint("eval_batches", 60, 1, 1u << 20);
    lm.finish();
    s.output = o.output.empty() ? r.get_path("output", "runs/suite") : o.output;
    if (!o.output.empty()) r.get_string("output", "");
    s.profile = read_energy_profile(r, "profile", "horowitz45-fp32");
    s.threads = r.get_uint("threads", 0, 0, 1024);
    r.finish();
    if (s.tasks.empty() && s.lm_spiking.empty())
        r.fail("tasks", nlohmann::json::array(), "nothing to run: no tasks and no /lm");
    for (const auto& t : s.tasks) {  // all validated before the first one runs
        s.scenarios.push_back(task_scenario::load(t));
        task_overrides each = o;
        each.output = o.output.empty() ? "" : o.output + "/" + fs::path(t).stem().string();
        each.apply(s.scenarios.back());
    }
    return s;
}

int run_suite(const std::string& path, const task_overrides& o, std::ostream& out) {
    const suite_scenario s = suite_scenario::from_json(json_reader::read_file(path, "suite"), path, o);
    const auto& tasks = s.tasks;
    const auto& scenarios = s.scenarios;
    const std::string& output = s.output;
    thread_limit limit(s.threads);
    const energy_profile profile = energy_profile_from(s.profile);
    fs::create_directories(output);
    const folder_lock lock(output);
    for (const char* f : {"table.md", "results.json"}) check_replaceable(output + "/" + f);

    std::vector<task_result> results;
    progress shown("suite", scenarios.size() + (s.lm_spiking.empty() ? 0 : 1), "tasks");
    for (std::size_t i = 0; i < scenarios.size(); ++i) {
        out << "== " << tasks[i] << " (" << i + 1 << "/" << scenarios.size() << ")\n";
        results.push_back(run_task(scenarios[i], out));
        shown.add(1);
    }
    std::ostringstream t;
    t << "| task | metric | spiking | ANN twin | majority | SNN nJ/ex (paper) | ANN nJ/ex (paper) | SNN nJ/ex (full) "
         "| ANN nJ/ex (full) | SNN/ANN (paper) | SNN/ANN (full) |\n"
      << "|---|---|---|---|---|---|---|---|---|---|---|\n";
    nlohmann::json all = nlohmann::json::array();
    for (const auto& res : results) {
        const double ann = res.ann.present ? res.ann.score : std::nan("");
        const double ap = res.ann.present ? res.ann.energy_paper_pj : std::nan("");
        const double af = res.ann.present ? res.ann.energy_full_pj : std::nan("");
        t << "| " << res.task << " | " << res.metric << " | " << cell("%.4f", res.spiking.score) << " | "
          << cell("%.4f", ann) << " | " << cell("%.4f", res.majority) << " | "
          << cell("%.1f", res.spiking.energy_paper_pj / 1e3) << " | " << cell("%.1f", ap / 1e3) << " | "
          << cell("%.1f", res.spiking.energy_full_pj / 1e3) << " | " << cell("%.1f", af / 1e3) << " | "
          << cell("%.3f", res.spiking.energy_paper_pj / ap) << " | " << cell("%.3f", res.spiking.energy_full_pj / af)
          << " |\n";
        all.push_back(nlohmann::json::parse(res.json()));
    }
    const std::string& corpus = s.corpus;
    if (!s.lm_spiking.empty()) {
        const lm_row row = held_out_lm(s.lm_spiking, s.lm_ann, corpus, s.data_dir, s.sequences, s.batches, profile,
                                       o.backend.empty() ? "cpu" : o.backend, out);
        shown.add(1);
        t << "| held-out LM (" << corpus << " test) | perplexity (lower is better), energy per token | "
          << cell("%.2f", row.snn_ppl) << " | " << cell("%.2f", row.ann_ppl) << " | — | "
          << cell("%.1f", row.snn_paper_pj / 1e3) << " | " << cell("%.1f", row.ann_paper_pj / 1e3) << " | "
          << cell("%.1f", row.snn_full_pj / 1e3) << " | " << cell("%.1f", row.ann_full_pj / 1e3) << " | "
          << cell("%.3f", row.snn_paper_pj / row.ann_paper_pj) << " | "
          << cell("%.3f", row.snn_full_pj / row.ann_full_pj) << " |\n";
        all.push_back(
            {{"task", "held-out-lm"},
             {"perplexity",
              {{"spiking", row.snn_ppl},
               {"ann_twin", std::isnan(row.ann_ppl) ? nlohmann::json(nullptr) : nlohmann::json(row.ann_ppl)}}},
             {"energy_per_token_pj",
              {{"spiking", {{"paper", row.snn_paper_pj}, {"full", row.snn_full_pj}}},
               {"ann_twin", {{"paper", row.ann_paper_pj}, {"full", row.ann_full_pj}}}}}});
    }
    write_text_atomically(output + "/table.md", t.str());
    write_text_atomically(output + "/results.json", all.dump(2) + "\n");
    out << "\n" << t.str() << "\ntable: " << output << "/table.md, results: " << output << "/results.json\n";
    return 0;
}

}  // namespace wtasim
