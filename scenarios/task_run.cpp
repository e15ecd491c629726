// Task scenarios and the suite (scenarios/task_run.hpp).
#include "scenarios/task_run.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <ostream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "core/parallel.hpp"
#include "core/progress.hpp"
#include "energy/report.hpp"
#include "scenarios/predict.hpp"
#include "scenarios/run.hpp"
#include "sim/engine.hpp"
#include "sim/network.hpp"
#include "sim/trace.hpp"

namespace wtasim {
namespace fs = std::filesystem;

namespace {

struct tuned {
    std::unique_ptr<language_model> model;
    checkpoint ckpt;  // the fine-tuned weights as a checkpoint (saved, and what the simulator folds)
    double train_loss = 0;
};

tuned fine_tune(const std::string& path, const task_data& task, const std::vector<encoded_example>& train,
                const task_scenario& s, const std::string& which, std::ostream& out,
                language_model* teacher = nullptr) {
    const checkpoint pre = load_checkpoint(path);
    const model_config pcfg = model_config::from_json(pre.config, path, "@config");
    if (which == "ann" && pcfg.spiking)
        throw config_error(s.origin + ": /models/ann = " + path +
                           " is a spiking checkpoint (@config/spiking = true); /models/ann takes the ANN twin");
    if (which == "spiking" && !pcfg.spiking)
        throw config_error(s.origin + ": /models/spiking = " + path +
                           " is an ANN twin (@config/spiking = false); /models/spiking takes a spiking checkpoint");
    tuned t;
    t.model = std::make_unique<language_model>(task_model_config(pcfg, task));
    load_pretrained(*t.model, pre, path);
    t.model->init_task_head(s.finetune.seed);
    out << which << ": fine-tuning " << path << " (" << (pcfg.spiking ? "spiking" : "ANN twin") << ", D " << pcfg.D
        << ", L " << pcfg.L << ", T " << pcfg.T << ") for " << s.finetune.steps << " steps\n";
    finetune_config fc = s.finetune;
    fc.distill.enabled = teacher != nullptr;
    if (teacher) {
        const std::string why = teacher_mismatch(teacher->config(), t.model->config(), fc.distill.hidden_weight);
        if (!why.empty())
            throw config_error(s.origin + ": /finetune/distill: the ANN twin " + s.ann_checkpoint + " cannot teach " +
                               path + ": " + why);
        out << which << ": distilling the fine-tuned ANN twin (weight " << fc.distill.weight << ", temperature "
            << fc.distill.temperature << ", hidden_weight " << fc.distill.hidden_weight << ")\n";
    }
    t.train_loss = finetune(*t.model, task, train, fc, out, teacher);
    checkpoint& c = t.ckpt = weights_checkpoint(*t.model);
    c.step = static_cast<std::int64_t>(s.finetune.steps);
    c.tokenizer = pre.tokenizer;
    save_checkpoint(s.output + "/" + which + ".h5", c);
    return t;
}

std::string fmt(const char* f, double v) {
    if (std::isnan(v)) return "—";
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

nlohmann::json score_json(const model_score& m, bool with_energy = true) {
    if (!m.present) return nullptr;
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& [k, v] : m.metrics) metrics[k] = v;
    nlohmann::json j = {{"metrics", metrics}, {"score", m.score}, {"train_loss", m.train_loss}};
    if (with_energy) j["energy_per_example_pj"] = {{"paper", m.energy_paper_pj}, {"full", m.energy_full_pj}};
    return j;
}

}  // namespace

std::string task_result::json() const {
    return nlohmann::json{
        {"task", task},
        {"kind", kind},
        {"metric", metric},
        {"train_examples", train_examples},
        {"eval_examples", eval_examples},
        {"spiking_simulator", score_json(spiking)},
        {"spiking_trainer", score_json(spiking_trainer, false)},
        {"ann_twin", score_json(ann)},
        {"majority", std::isnan(majority) ? nlohmann::json(nullptr) : nlohmann::json(majority)},
        {"simulator_trainer_agreement", agreement},
        {"traced", {{"examples", traced}, {"energy_pj", {{"paper", traced_paper_pj}, {"full", traced_full_pj}}}}}}
        .dump(2);
}

namespace {

// The task's data, the pretrained spiking checkpoint (checked to suit the task) and every example encoded
// with that checkpoint's tokenizer.
struct prepared_task {
    task_data task;
    checkpoint pre;
    model_config pcfg;
    std::vector<encoded_example> train, eval;
};

prepared_task prepare(const task_scenario& s, std::ostream& out) {
    prepared_task p;
    p.task = load_task(s);
    const task_data& task = p.task;
    if (task.train.empty() || task.test.empty())
        throw config_error(s.origin + ": /task: " + std::to_string(task.train.size()) + " training and " +
                           std::to_string(task.test.size()) + " evaluation examples; both must be non-empty");
    p.pre = load_checkpoint(s.spiking_checkpoint);
    if (p.pre.tokenizer.empty()) throw io_error(s.spiking_checkpoint + ": /tokenizer/model is missing");
    p.pcfg = model_config::from_json(p.pre.config, s.spiking_checkpoint, "@config");
    if (!p.pcfg.spiking)
        throw config_error(s.origin + ": /models/spiking = \"" + s.spiking_checkpoint +
                           "\" is an ANN twin; expected a spiking checkpoint");
    if (task.kind == task_kind::multiple_choice && !p.pcfg.causal)
        throw config_error(s.origin +
                           ": /models/spiking: multiple choice is scored by LM log-likelihood and needs a "
                           "decoder (WD) checkpoint; \"" +
                           s.spiking_checkpoint + "\" is bidirectional");
    const tokenizer tok = tokenizer::from_bytes(p.pre.tokenizer, s.spiking_checkpoint);
    for (const auto& e : task.train) p.train.push_back(encode_example(task, e, tok, p.pcfg.max_len));
    for (const auto& e : task.test) p.eval.push_back(encode_example(task, e, tok, p.pcfg.max_len));
    out << "task " << task.name << " (" << task_kind_name(task.kind) << ", " << task.metric
        << "): " << task.train.size() << " training, " << task.test.size() << " evaluation examples\n";
    return p;
}

model_score scored(const task_data& task, const std::vector<task_prediction>& predicted, double train_loss) {
    model_score m;
    m.present = true;
    m.metrics = task_metrics(task, task.test, predicted);
    m.score = headline(task, m.metrics);
    m.train_loss = train_loss;
    return m;
}

// The fine-tuned spiking model's evaluation through the event-driven simulator.
struct simulated_eval : simulated_examples {
    sim_network net;
};

simulated_eval simulate_eval(const task_scenario& s, const prepared_task& p, const checkpoint& tuned,
                             std::ostream& out) {
    sim_network net = sim_network::from_checkpoint(tuned, s.output + "/spiking.h5");
    std::size_t sequences = 0;
    for (const auto& x : p.eval) sequences += x.sequences.size();
    out << "simulating " << sequences << " sequences (event-driven, " << s.backend << ")\n";
    simulated_examples x = simulate_examples(net, p.task, p.task.test, p.eval, s.backend);
    out << simulation_speed(x.seqs, x.seconds, s.backend) << "\n";
    return {std::move(x), std::move(net)};
}

// predictions.jsonl: a model's prediction of every evaluation example by id (label-less files too), and beside it
// the benchmark's submission files in `submission_dir` (GLUE, BoolQ; tasks/predict.hpp).
void write_predictions(const std::string& path, const std::string& submission_dir, const task_scenario& s,
                       const task_data& task, const std::vector<task_prediction>& predicted) {
    write_text_atomically(path, predictions_jsonl(task, predicted));
    const auto files = submission_files(task, predicted, s.eval_file);
    if (!files.empty()) fs::create_directories(submission_dir);
    for (const auto& [name, content] : files) write_text_atomically(submission_dir + "/" + name, content);
}

// The energy of the simulated evaluation; the spiking model's energy per example into `res`.
energy_inputs task_energy(const energy_profile& profile, const checkpoint& tuned, const simulated_eval& e,
                          task_result& res) {
    energy_inputs in = simulated_energy(tuned, e.net.cfg, e.seqs, e.results);
    op_counts total;
    for (const auto& l : in.layers) total += l.ops;
    const double n = double(res.eval_examples);
    res.spiking.energy_paper_pj = paper_convention_energy_pj(total) / n;
    res.spiking.energy_full_pj = profile.energy_pj(total) / n;
    in.examples = res.eval_examples;
    return in;
}

// report.{json,md,html}: the energy with the task's scores, the provenance and a raster of the first sequence.
void write_reports(const task_scenario& s, const energy_profile& profile, energy_inputs in, const task_result& res,
                   const simulated_eval& e, const std::vector<std::string>& pieces) {
    in.provenance.checkpoint = s.output + "/spiking.h5 (fine-tuned from " + s.spiking_checkpoint + ")";
    in.provenance.scenario = s.origin;
    in.provenance.command = "wtasim task";
    in.has_task = true;
    in.task = {res.task,     res.metric,       res.spiking.score, res.ann.present ? res.ann.score : std::nan(""),
               res.majority, res.eval_examples};
    in.raster = raster_of(simulate(e.net, e.seqs.at(0), true), e.seqs[0], pieces, e.net.cfg.T);
    write_text_atomically(s.output + "/report.json", energy_report_json(in, profile));
    write_text_atomically(s.output + "/report.md", energy_report_markdown(in, profile));
    write_text_atomically(s.output + "/report.html", energy_report_html(in, profile));
}

// trace.h5 of the first `trace_examples` examples, and their energy (tests/sim/check_trace.py recomputes it).
void write_task_trace(const task_scenario& s, const energy_profile& profile, const simulated_eval& e,
                      const std::vector<std::string>& pieces, task_result& res) {
    const std::size_t k = std::min(s.trace_examples, e.first_seq.size());
    const std::size_t kept = k < e.first_seq.size() ? e.first_seq[k] : e.seqs.size();
    const std::vector<std::vector<std::int32_t>> tseqs(e.seqs.begin(), e.seqs.begin() + std::ptrdiff_t(kept));
    std::vector<sim_result> tres;
    op_counts traced;
    for (const auto& q : tseqs) {
        tres.push_back(simulate(e.net, q, true));
        traced += tres.back().total;
    }
    write_trace(s.output + "/trace.h5", e.net, tseqs, tres, s.json, {}, trace_labels{pieces, &profile});
    res.traced = k;
    res.traced_paper_pj = paper_convention_energy_pj(traced);
    res.traced_full_pj = profile.energy_pj(traced);
}

void print_summary(std::ostream& out, const task_scenario& s, const task_result& res) {
    out << "\n"
        << res.task << " (" << res.eval_examples << " examples), " << res.metric << ":\n"
        << "  WD/WE-Spikingformer, simulator   " << fmt("%.4f", res.spiking.score) << "   (trainer forward "
        << fmt("%.4f", res.spiking_trainer.score) << ", same prediction on " << fmt("%.1f", 100 * res.agreement)
        << "% of examples)\n";
    if (res.ann.present) out << "  ANN twin                         " << fmt("%.4f", res.ann.score) << "\n";
    out << "  majority class                   " << fmt("%.4f", res.majority) << "\n"
        << "  energy per example: spiking " << fmt("%.1f", res.spiking.energy_full_pj / 1e3) << " nJ (paper convention "
        << fmt("%.1f", res.spiking.energy_paper_pj / 1e3) << " nJ)";
    if (res.ann.present)
        out << ", ANN twin " << fmt("%.1f", res.ann.energy_full_pj / 1e3) << " nJ (paper "
            << fmt("%.1f", res.ann.energy_paper_pj / 1e3) << " nJ), SNN / ANN "
            << fmt("%.3f", res.spiking.energy_full_pj / res.ann.energy_full_pj);
    out << "\n  written: " << s.output << "/{spiking.h5, " << (res.ann.present ? "ann.h5, " : "")
        << "report.json, report.md, report.html, " << (s.trace_examples ? "trace.h5, " : "") << "predictions.jsonl, "
        << (res.ann.present ? "predictions-ann.jsonl, " : "") << "result.json}\n";
}

}  // namespace

task_result run_task(const task_scenario& s, std::ostream& out) {
    thread_limit limit(s.finetune.threads);
    // the folder's files never overwrite an input, and one run at a time writes the folder
    std::vector<named_path> outputs;
    for (const char* f : {"spiking.h5", "ann.h5", "trace.h5", "predictions.jsonl", "predictions-ann.jsonl",
                          "report.json", "report.md", "report.html", "result.json"})
        outputs.push_back({"output file " + (fs::path(s.output) / f).string(), (fs::path(s.output) / f).string()});
    refuse_overwriting_inputs(outputs, {{"spiking checkpoint", s.spiking_checkpoint},
                                        {"ANN checkpoint", s.ann_checkpoint},
                                        {"training data", s.train_file},
                                        {"evaluation data", s.eval_file},
                                        {"task scenario", s.origin}});
    fs::create_directories(s.output);
    const folder_lock lock(s.output);
    for (const auto& o : outputs) check_replaceable(o.second);
    progress shown("task");
    shown.stage("reading and encoding the examples");
    const prepared_task p = prepare(s, out);
    const task_data& task = p.task;
    shown.rename("task " + task.name);
    const std::vector<task_example>& eval = task.test;
    const std::size_t V = p.pcfg.vocab;
    task_result res;
    res.task = task.name;
    res.metric = task.metric;
    res.kind = task_kind_name(task.kind);
    res.train_examples = task.train.size();
    res.eval_examples = eval.size();
    const energy_profile profile = energy_profile_from(s.profile);

    // with distillation the ANN twin is fine-tuned first: it is the spiking model's teacher
    const bool distill = s.finetune.distill.enabled;
    if (distill && !distillable(task.kind))
        throw config_error(s.origin + ": /finetune/distill: task " + task.name + " is of kind " +
                           task_kind_name(task.kind) +
                           "; distillation fine-tunes classification, pair classification and tagging tasks");
    if (distill && load_checkpoint(s.ann_checkpoint).tokenizer != p.pre.tokenizer)
        throw config_error(s.origin + ": /finetune/distill: the ANN twin " + s.ann_checkpoint +
                           " has another tokenizer than " + s.spiking_checkpoint + "; a teacher needs the same pieces");
    tuned ann;
    if (distill) {
        shown.stage("fine-tuning the ANN twin (teacher)");
        ann = fine_tune(s.ann_checkpoint, task, p.train, s, "ann", out);
    }
    shown.stage("fine-tuning the spiking model");
    // the spiking model: fine-tuned, then scored through the trainer's forward and through the simulator
    tuned snn = fine_tune(s.spiking_checkpoint, task, p.train, s, "spiking", out, distill ? ann.model.get() : nullptr);
    shown.stage("scoring the spiking model");
    const auto trainer_pred = decode_all(task, eval, p.eval, forward_outputs(*snn.model, task, p.eval, 32), V);
    res.spiking_trainer = scored(task, trainer_pred, snn.train_loss);
    shown.stage("simulating the evaluation");
    const simulated_eval sim = simulate_eval(s, p, snn.ckpt, out);
    res.spiking = scored(task, sim.predicted, snn.train_loss);
    write_predictions(s.output + "/predictions.jsonl", s.output + "/submission", s, task, sim.predicted);
    std::size_t agree = 0;
    for (std::size_t i = 0; i < eval.size(); ++i) agree += same_prediction(sim.predicted[i], trainer_pred[i]) ? 1 : 0;
    res.agreement = double(agree) / double(eval.size());
    shown.stage("writing the trace");
    const energy_inputs in = task_energy(profile, snn.ckpt, sim, res);
    const std::vector<std::string> pieces = tokenizer::from_bytes(p.pre.tokenizer, s.spiking_checkpoint).piece_texts();
    if (s.trace_examples > 0) write_task_trace(s, profile, sim, pieces, res);

    // the ANN twin: fine-tuned the same way, scored through its dense forward; its energy counted on the
    // same sequences (the report's twin column)
    if (!s.ann_checkpoint.empty()) {
        shown.stage("the ANN twin");
        if (!distill) ann = fine_tune(s.ann_checkpoint, task, p.train, s, "ann", out);
        const auto ann_pred = decode_all(task, eval, p.eval, forward_outputs(*ann.model, task, p.eval, 32), V);
        res.ann = scored(task, ann_pred, ann.train_loss);
        write_predictions(s.output + "/predictions-ann.jsonl", s.output + "/submission-ann", s, task, ann_pred);
        res.ann.energy_paper_pj = paper_convention_energy_pj(in.ann) / double(eval.size());
        res.ann.energy_full_pj = profile.energy_pj(in.ann) / double(eval.size());
    }
    res.majority = majority_score(task, eval);
    shown.stage("writing the energy reports");
    write_reports(s, profile, in, res, sim, pieces);
    write_text_atomically(s.output + "/result.json", res.json() + "\n");
    print_summary(out, s, res);
    return res;
}

}  // namespace wtasim
