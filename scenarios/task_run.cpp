// Task scenarios and the suite (scenarios/task_run.hpp).
#include "scenarios/task_run.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <ostream>

#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "core/parallel.hpp"
#include "energy/report.hpp"
#include "scenarios/run.hpp"
#include "sim/engine.hpp"
#include "sim/network.hpp"
#include "sim/trace.hpp"
#include "training/h5.hpp"

namespace wtasim {
namespace fs = std::filesystem;

namespace {
bool is_multiple_choice_format(const std::string& f) {
    return f == "arc" || f == "openbookqa" || f == "piqa" || f == "hellaswag" || f == "winogrande";
}
}  // namespace

task_scenario task_scenario::from_json(const std::string& text, const std::string& origin) {
    const nlohmann::json j = json_reader::parse(text, origin);
    json_reader r(j, origin);
    task_scenario s;
    s.origin = origin;
    s.json = j.dump();
    json_reader t = r.object("task");
    std::string names;
    for (const auto& n : builtin_task_names()) names += (names.empty() ? "" : ", ") + n;
    s.builtin = t.get_string("builtin", "");
    if (!s.builtin.empty()) {
        const auto known = builtin_task_names();
        if (std::find(known.begin(), known.end(), s.builtin) == known.end())
            t.fail("builtin", s.builtin, "expected one of " + names);
    }
    s.format =
        t.get_string("format", "", {"glue", "boolq", "arc", "openbookqa", "piqa", "hellaswag", "winogrande", "squad"});
    if (s.builtin.empty() == s.format.empty())
        t.fail(s.builtin.empty() ? "builtin" : "format",
               s.builtin.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.format),
               "give exactly one of /task/builtin (" + names + ") or /task/format (a standard format)");
    s.name = t.get_string("name", s.format == "glue" ? "" : s.format);
    if (s.format == "glue") {
        if (s.name.empty())
            t.fail("name", nullptr, "missing: the GLUE task (cola, sst2, mrpc, qqp, stsb, mnli, qnli, rte)");
        try {
            glue_task(s.name);
        } catch (const error& e) {
            t.fail("name", s.name, e.what());
        }
    }
    s.train_file = t.get_string("train", "");
    s.eval_file = t.get_string("eval", "");
    if (!s.format.empty())
        for (const char* key : {"train", "eval"}) {
            const std::string& f = std::string(key) == "train" ? s.train_file : s.eval_file;
            if (f.empty())
                t.fail(key, nullptr, "missing: the " + std::string(key) + " file of the " + s.format + " task");
            if (!fs::exists(f)) t.fail(key, f, "no such file");
        }
    t.finish();
    json_reader d = r.object("data");
    s.data_dir = d.get_string("data_dir", "data");
    s.limits.max_train = d.get_uint("max_train", s.limits.max_train);
    s.limits.max_eval = d.get_uint("max_eval", s.limits.max_eval);
    s.split = d.get_string("split", "test", {"valid", "test"});
    d.finish();
    json_reader m = r.object("models");
    if (!m.has("spiking")) m.fail("spiking", nullptr, "missing: the pretrained spiking checkpoint (HDF5)");
    s.spiking_checkpoint = m.get_string("spiking", "");
    s.ann_checkpoint = m.get_string("ann", "");
    for (const char* key : {"spiking", "ann"}) {
        const std::string& f = std::string(key) == "spiking" ? s.spiking_checkpoint : s.ann_checkpoint;
        if (!f.empty() && !fs::exists(f)) m.fail(key, f, "no such file");
    }
    m.finish();
    json_reader f = r.object("finetune");
    finetune_config& c = s.finetune;
    c.steps = f.get_uint("steps", c.steps, 1, 1u << 24);
    c.batch = f.get_uint("batch", c.batch, 1, 1u << 16);
    c.lr = f.get_number("lr", c.lr, 0.0, 10.0, true);
    c.min_lr = f.get_number("min_lr", c.min_lr, 0.0, 10.0);
    c.warmup = f.get_uint("warmup", c.warmup);
    c.weight_decay = f.get_number("weight_decay", c.weight_decay, 0.0, 1.0);
    c.clip = f.get_number("clip", c.clip, 0.0, 1e9);
    c.seed = f.get_uint("seed", c.seed);
    c.threads = f.get_uint("threads", 0, 0, 1024);
    c.log_every = f.get_uint("log_every", c.log_every, 1, 1u << 24);
    f.finish();
    json_reader e = r.object("eval");
    s.backend = e.get_string("backend", "cpu", {"reference", "cpu"});
    s.trace_examples = e.get_uint("trace_examples", s.trace_examples, 0, 1u << 16);
    e.finish();
    json_reader en = r.object("energy");
    s.profile = en.get_string("profile", s.profile);
    try {
        energy_profile_from(s.profile);
    } catch (const error& err) {
        en.fail("profile", s.profile, std::string("not usable: ") + err.what());
    }
    en.finish();
    s.output = r.get_string("output", "runs/tasks/" + (s.builtin.empty() ? s.name : s.builtin));
    r.finish();
    return s;
}

task_scenario task_scenario::load(const std::string& path) {
    return from_json(json_reader::read_file(path, "task scenario"), path);
}

void task_overrides::apply(task_scenario& s) const {
    if (steps) {
        s.finetune.steps = steps;
        s.finetune.warmup = std::min<std::uint64_t>(s.finetune.warmup, steps);
    }
    if (max_train) s.limits.max_train = max_train;
    if (max_eval) s.limits.max_eval = max_eval;
    if (!output.empty()) s.output = output;
}

task_data load_task(const task_scenario& s) {
    if (!s.builtin.empty()) {
        task_data t = builtin_task(s.builtin, s.data_dir, s.limits);
        if (s.split == "valid") t.test = t.valid;
        return t;
    }
    task_data t;
    if (s.format == "glue") {
        t = glue_task(s.name);
        t.train = read_glue_tsv(s.name, s.train_file);
        t.test = read_glue_tsv(s.name, s.eval_file);
    } else if (s.format == "boolq") {
        t = {"boolq", task_kind::pair_classification, "accuracy", {"False", "True"}, {}, {}, {}};
        t.train = read_boolq_jsonl(s.train_file);
        t.test = read_boolq_jsonl(s.eval_file);
    } else if (is_multiple_choice_format(s.format)) {
        t = {s.format, task_kind::multiple_choice, "acc", {}, {}, {}, {}};
        t.train = read_multiple_choice_jsonl(s.format, s.train_file);
        t.test = read_multiple_choice_jsonl(s.format, s.eval_file);
    } else {
        t = {"squad", task_kind::span_qa, "f1", {}, {}, {}, {}};
        t.train = read_squad_json(s.train_file);
        t.test = read_squad_json(s.eval_file);
    }
    return t;
}

namespace {

struct tuned {
    std::unique_ptr<language_model> model;
    checkpoint ckpt;  // the fine-tuned weights as a checkpoint (saved, and what the simulator folds)
    double train_loss = 0;
};

tuned fine_tune(const std::string& path, const task_data& task, const std::vector<encoded_example>& train,
                const task_scenario& s, const std::string& which, std::ostream& out) {
    const checkpoint pre = load_checkpoint(path);
    const model_config pcfg = model_config::from_json(pre.config, path, "@config");
    tuned t;
    t.model = std::make_unique<language_model>(task_model_config(pcfg, task));
    load_pretrained(*t.model, pre, path);
    t.model->init_task_head(s.finetune.seed);
    out << which << ": fine-tuning " << path << " (" << (pcfg.spiking ? "spiking" : "ANN twin") << ", D " << pcfg.D
        << ", L " << pcfg.L << ", T " << pcfg.T << ") for " << s.finetune.steps << " steps\n";
    t.train_loss = finetune(*t.model, task, train, s.finetune, out);
    checkpoint& c = t.ckpt = weights_checkpoint(*t.model);
    c.step = static_cast<std::int64_t>(s.finetune.steps);
    c.tokenizer = pre.tokenizer;
    save_checkpoint(s.output + "/" + which + ".h5", c);
    return t;
}

std::vector<task_prediction> decode_all(const task_data& task, const std::vector<task_example>& eval,
                                        const std::vector<encoded_example>& enc,
                                        const std::vector<std::vector<std::vector<float>>>& outs, std::size_t V) {
    std::vector<task_prediction> p;
    for (std::size_t i = 0; i < eval.size(); ++i) p.push_back(decode_outputs(task, eval[i], enc[i], outs[i], V));
    return p;
}

bool same_prediction(const task_prediction& a, const task_prediction& b) {
    return a.label == b.label && a.tags == b.tags && a.answer == b.answer &&
           (a.choices.loglik.empty() || choose_acc_norm(a.choices) == choose_acc_norm(b.choices));
}

// The majority-class baseline's predictions: the most frequent training label (tag, gold choice) everywhere.
double majority_score(const task_data& task, const std::vector<task_example>& eval) {
    if (task.kind == task_kind::span_qa) return std::nan("");
    std::vector<int> labels;
    double mean = 0;
    for (const auto& e : task.train) {
        if (task.kind == task_kind::tagging)
            labels.insert(labels.end(), e.tags.begin(), e.tags.end());
        else
            labels.push_back(e.label);
        mean += e.target / double(task.train.size());
    }
    const int major = task.kind == task_kind::regression ? 0 : majority_label(labels);
    std::vector<task_prediction> p(eval.size());
    for (std::size_t i = 0; i < eval.size(); ++i) {
        p[i].label = major;
        p[i].value = mean;
        p[i].tags.assign(eval[i].words.size(), major);
        // a constant choice: every choice scores the same except the majority position
        for (std::size_t c = 0; c < eval[i].choices.size(); ++c) {
            p[i].choices.loglik.push_back(int(c) == major ? 0.0 : -1.0);
            p[i].choices.cont_bytes.push_back(1);
        }
    }
    if (task.kind == task_kind::regression) return 0.0;  // a constant has no correlation
    return headline(task, task_metrics(task, eval, p));
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

task_result run_task(const task_scenario& s, std::ostream& out) {
    thread_limit limit(s.finetune.threads);
    fs::create_directories(s.output);
    const task_data task = load_task(s);
    const std::vector<task_example>& eval = task.test;
    if (task.train.empty() || eval.empty())
        throw config_error(s.origin + ": /task: " + std::to_string(task.train.size()) + " training and " +
                           std::to_string(eval.size()) + " evaluation examples; both must be non-empty");
    const checkpoint pre = load_checkpoint(s.spiking_checkpoint);
    if (pre.tokenizer.empty()) throw io_error(s.spiking_checkpoint + ": /tokenizer/model is missing");
    const model_config pcfg = model_config::from_json(pre.config, s.spiking_checkpoint, "@config");
    if (!pcfg.spiking)
        throw config_error(s.origin + ": /models/spiking = \"" + s.spiking_checkpoint +
                           "\" is an ANN twin; expected a spiking checkpoint");
    if (task.kind == task_kind::multiple_choice && !pcfg.causal)
        throw config_error(s.origin +
                           ": /models/spiking: multiple choice is scored by LM log-likelihood and needs a "
                           "decoder (WD) checkpoint; \"" +
                           s.spiking_checkpoint + "\" is bidirectional");
    const tokenizer tok = tokenizer::from_bytes(pre.tokenizer, s.spiking_checkpoint);
    std::vector<encoded_example> enc_train, enc_eval;
    for (const auto& e : task.train) enc_train.push_back(encode_example(task, e, tok, pcfg.max_len));
    for (const auto& e : eval) enc_eval.push_back(encode_example(task, e, tok, pcfg.max_len));
    out << "task " << task.name << " (" << task_kind_name(task.kind) << ", " << task.metric
        << "): " << task.train.size() << " training, " << eval.size() << " evaluation examples\n";

    task_result res;
    res.task = task.name;
    res.metric = task.metric;
    res.kind = task_kind_name(task.kind);
    res.train_examples = task.train.size();
    res.eval_examples = eval.size();
    const energy_profile profile = energy_profile_from(s.profile);
    const double n_eval = double(eval.size());

    // the spiking model: fine-tune, then score through the trainer's forward and through the simulator
    tuned snn = fine_tune(s.spiking_checkpoint, task, enc_train, s, "spiking", out);
    const std::size_t V = pcfg.vocab;
    const auto trainer_pred = decode_all(task, eval, enc_eval, forward_outputs(*snn.model, task, enc_eval, 32), V);
    res.spiking_trainer.present = true;
    res.spiking_trainer.metrics = task_metrics(task, eval, trainer_pred);
    res.spiking_trainer.score = headline(task, res.spiking_trainer.metrics);
    res.spiking_trainer.train_loss = snn.train_loss;

    const sim_network net = sim_network::from_checkpoint(snn.ckpt, s.output + "/spiking.h5");
    std::vector<std::vector<std::int32_t>> seqs;
    std::vector<std::size_t> first_seq;
    for (const auto& e : enc_eval) {
        first_seq.push_back(seqs.size());
        for (const auto& q : e.sequences) seqs.push_back(q);
    }
    out << "simulating " << seqs.size() << " sequences (event-driven, " << s.backend << ")\n";
    const std::vector<sim_result> results = simulate_batch(net, seqs, s.backend);
    std::vector<std::vector<std::vector<float>>> sim_outs(eval.size());
    for (std::size_t i = 0; i < eval.size(); ++i)
        for (std::size_t q = 0; q < enc_eval[i].sequences.size(); ++q)
            sim_outs[i].push_back(results[first_seq[i] + q].logits);
    const auto sim_pred = decode_all(task, eval, enc_eval, sim_outs, V);
    res.spiking.present = true;
    res.spiking.metrics = task_metrics(task, eval, sim_pred);
    res.spiking.score = headline(task, res.spiking.metrics);
    res.spiking.train_loss = snn.train_loss;
    {  // the simulator's prediction of every evaluation example (also for label-less test files)
        std::string lines;
        for (std::size_t i = 0; i < eval.size(); ++i) {
            const task_prediction& q = sim_pred[i];
            nlohmann::json j = {{"id", eval[i].id}};
            switch (task.kind) {
                case task_kind::regression:
                    j["prediction"] = q.value;
                    break;
                case task_kind::span_qa:
                    j["prediction"] = q.answer;
                    break;
                case task_kind::tagging: {
                    nlohmann::json tags = nlohmann::json::array();
                    for (int t : q.tags) tags.push_back(t >= 0 ? task.labels[std::size_t(t)] : "");
                    j["prediction"] = tags;
                    break;
                }
                case task_kind::multiple_choice:
                    j["prediction"] = choose_acc(q.choices);
                    j["prediction_norm"] = choose_acc_norm(q.choices);
                    j["loglik"] = q.choices.loglik;
                    break;
                default:
                    j["prediction"] = task.labels.at(std::size_t(q.label));
            }
            lines += j.dump() + "\n";
        }
        h5::write_text_atomically(s.output + "/predictions.jsonl", lines);
    }
    std::size_t agree = 0;
    for (std::size_t i = 0; i < eval.size(); ++i) agree += same_prediction(sim_pred[i], trainer_pred[i]) ? 1 : 0;
    res.agreement = double(agree) / n_eval;

    const energy_inputs in = simulated_energy(snn.ckpt, net.cfg, seqs, results);
    op_counts total;
    for (const auto& l : in.layers) total += l.ops;
    res.spiking.energy_paper_pj = paper_convention_energy_pj(total) / n_eval;
    res.spiking.energy_full_pj = profile.energy_pj(total) / n_eval;
    h5::write_text_atomically(s.output + "/report.json", energy_report_json(in, profile));
    h5::write_text_atomically(s.output + "/report.md", energy_report_markdown(in, profile));
    h5::write_text_atomically(s.output + "/report.html", energy_report_html(in, profile));
    if (s.trace_examples > 0) {
        const std::size_t k = std::min(s.trace_examples, eval.size());
        const std::size_t kept = k < first_seq.size() ? first_seq[k] : seqs.size();
        const std::vector<std::vector<std::int32_t>> tseqs(seqs.begin(), seqs.begin() + std::ptrdiff_t(kept));
        std::vector<sim_result> tres;
        op_counts traced;
        for (const auto& q : tseqs) {
            tres.push_back(simulate(net, q, true));
            traced += tres.back().total;
        }
        write_trace(s.output + "/trace.h5", net, tseqs, tres, s.json, {});
        res.traced = k;
        res.traced_paper_pj = paper_convention_energy_pj(traced);
        res.traced_full_pj = profile.energy_pj(traced);
    }

    // the ANN twin: fine-tuned the same way, scored through its dense forward; its energy counted on the
    // same sequences (the report's twin column)
    if (!s.ann_checkpoint.empty()) {
        tuned ann = fine_tune(s.ann_checkpoint, task, enc_train, s, "ann", out);
        const auto ann_pred = decode_all(task, eval, enc_eval, forward_outputs(*ann.model, task, enc_eval, 32), V);
        res.ann.present = true;
        res.ann.metrics = task_metrics(task, eval, ann_pred);
        res.ann.score = headline(task, res.ann.metrics);
        res.ann.train_loss = ann.train_loss;
        res.ann.energy_paper_pj = paper_convention_energy_pj(in.ann) / n_eval;
        res.ann.energy_full_pj = profile.energy_pj(in.ann) / n_eval;
    }
    res.majority = majority_score(task, eval);
    h5::write_text_atomically(s.output + "/result.json", res.json() + "\n");

    out << "\n"
        << task.name << " (" << eval.size() << " examples), " << task.metric << ":\n"
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
        << "report.json, report.md, report.html, " << (s.trace_examples ? "trace.h5, " : "")
        << "predictions.jsonl, result.json}\n";
    return res;
}

}  // namespace wtasim
