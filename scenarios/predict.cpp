// `wtasim predict` and `wtasim eval` on task checkpoints (scenarios/predict.hpp).
#include "scenarios/predict.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <ostream>

#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "energy/profile.hpp"
#include "model/checkpoint.hpp"
#include "model/config.hpp"
#include "model/h5.hpp"
#include "scenarios/run.hpp"
#include "scenarios/task.hpp"
#include "sim/engine.hpp"
#include "sim/network.hpp"
#include "sim/report_inputs.hpp"
#include "tasks/encode.hpp"
#include "training/corpus.hpp"
#include "training/tokenizer.hpp"

namespace wtasim {
namespace {

// The checkpoint with what every consumer of it here needs.
struct loaded {
    std::string path;
    checkpoint c;
    model_config cfg;
    tokenizer tok;
    sim_network net;
    explicit loaded(const std::string& p)
        : path(p),
          c(load_checkpoint(p)),
          cfg(model_config::from_json(c.config, p, "@config")),
          tok(c.tokenizer.empty() ? throw io_error(p + ": has no /tokenizer/model, so a text cannot be encoded")
                                  : tokenizer::from_bytes(c.tokenizer, p)),
          net(sim_network::from_checkpoint(c, p)) {
        if (!cfg.spiking)
            throw config_error(p +
                               ": is an ANN twin (@config/spiking = false); the simulator runs spiking checkpoints");
    }
};

task_kind kind_named(const std::string& name) {
    for (task_kind k : {task_kind::classification, task_kind::pair_classification, task_kind::regression,
                        task_kind::tagging, task_kind::span_qa, task_kind::multiple_choice})
        if (name == task_kind_name(k)) return k;
    throw config_error("unknown task kind \"" + name + "\"");
}

// The task the checkpoint's head was fine-tuned for (labels and kind from @config/task), or multiple choice for a
// decoder without a head.
task_data head_task(const loaded& m, bool choices) {
    task_data t;
    if (m.cfg.task.empty()) {
        if (!choices)
            throw config_error(m.path +
                               ": has no task head (@config/task); give a checkpoint fine-tuned by `wtasim task` (its "
                               "spiking.h5), or --choice options to score with a decoder's log-likelihood");
        if (!m.cfg.causal)
            throw config_error(m.path +
                               ": multiple choice is scored by LM log-likelihood and needs a decoder (WD) "
                               "checkpoint; this one is bidirectional");
        t.name = "choice";
        t.kind = task_kind::multiple_choice;
        t.metric = "acc";
        return t;
    }
    if (m.cfg.task_kind.empty())
        throw config_error(m.path + ": @config/task \"" + m.cfg.task +
                           "\" names no kind and no labels (fine-tuned before wtasim stored them); fine-tune it "
                           "again with `wtasim task`");
    t.name = m.cfg.task;
    t.kind = kind_named(m.cfg.task_kind);
    t.labels = m.cfg.task_labels;
    if (choices)
        throw config_error("--choice: " + m.path + " has a " + m.cfg.task_kind + " head (task " + t.name +
                           "); options are for a decoder without a task head");
    return t;
}

// The request as one example of the task's kind; a text the kind does not take is an error naming the option.
task_example example_of(const task_data& t, const predict_request& r) {
    task_example e;
    e.id = "input";
    const std::string kind = task_kind_name(t.kind);
    if (r.text.empty()) throw config_error("--text: expected a non-empty text for task " + t.name + " (" + kind + ")");
    switch (t.kind) {
        case task_kind::classification:
        case task_kind::tagging:
            if (!r.text_b.empty())
                throw config_error("--text-b: task " + t.name + " (" + kind + ") takes one text, not two");
            e.text_a = r.text;
            if (t.kind == task_kind::tagging) e.words = words_of(r.text);
            break;
        case task_kind::pair_classification:
        case task_kind::span_qa:
            if (r.text_b.empty())
                throw config_error("--text-b: task " + t.name + " (" + kind + ") needs a second text" +
                                   (t.kind == task_kind::span_qa ? " (the context; --text is the question)" : ""));
            e.text_a = r.text;
            e.text_b = r.text_b;
            break;
        case task_kind::regression:
            e.text_a = r.text;
            e.text_b = r.text_b;
            break;
        case task_kind::multiple_choice:
            if (r.choices.size() < 2)
                throw config_error("--choice: " + std::to_string(r.choices.size()) +
                                   " given; multiple choice needs at least two continuations");
            e.contexts = {r.text};
            e.choices = r.choices;
            break;
    }
    return e;
}

std::vector<double> softmax(const float* x, std::size_t n) {
    std::vector<double> p(x, x + n);
    const double top = *std::max_element(p.begin(), p.end());
    double sum = 0.0;
    for (double& v : p) sum += v = std::exp(v - top);
    for (double& v : p) v /= sum;
    return p;
}

std::string fixed(double v, int digits) {
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", digits, v);
    return b;
}

// The energy of simulated sequences: the spiking model's and its ANN twin's on the same tokens.
struct input_energy {
    std::uint64_t tokens = 0;
    double full_pj = 0.0, paper_pj = 0.0, twin_full_pj = 0.0, twin_paper_pj = 0.0;
};
input_energy energy_of(const loaded& m, const std::vector<std::vector<std::int32_t>>& seqs,
                       const std::vector<sim_result>& results, const energy_profile& profile) {
    const energy_inputs in = simulated_energy(m.c, m.cfg, seqs, results);
    op_counts total;
    for (const auto& l : in.layers) total += l.ops;
    return {in.tokens, profile.energy_pj(total), paper_convention_energy_pj(total), profile.energy_pj(in.ann),
            paper_convention_energy_pj(in.ann)};
}

nlohmann::json energy_json(const input_energy& e, const std::string& profile) {
    return {{"tokens", e.tokens},
            {"profile", profile},
            {"spiking_pj", e.full_pj},
            {"spiking_paper_pj", e.paper_pj},
            {"ann_twin_pj", e.twin_full_pj},
            {"ann_twin_paper_pj", e.twin_paper_pj},
            {"snn_over_ann", e.twin_full_pj > 0 ? e.full_pj / e.twin_full_pj : 0.0}};
}

std::string energy_line(const input_energy& e, const std::string& profile, const std::string& per) {
    return "energy" + per + ": " + fixed(e.full_pj * 1e-3, 3) + " nJ (full profile " + profile + "; paper convention " +
           fixed(e.paper_pj * 1e-3, 3) + " nJ); ANN twin " + fixed(e.twin_full_pj * 1e-3, 3) + " nJ, SNN / ANN " +
           fixed(e.twin_full_pj > 0 ? e.full_pj / e.twin_full_pj : 0.0, 3);
}

}  // namespace

simulated_examples simulate_examples(const sim_network& net, const task_data& task,
                                     const std::vector<task_example>& examples, const std::vector<encoded_example>& enc,
                                     const std::string& backend) {
    simulated_examples x;
    for (const auto& e : enc) {
        x.first_seq.push_back(x.seqs.size());
        for (const auto& q : e.sequences) x.seqs.push_back(q);
    }
    progress shown("simulate " + task.name, x.seqs.size(), "sequences", "tokens");
    const auto t0 = std::chrono::steady_clock::now();
    x.results = simulate_batch(net, x.seqs, sim_backend_named(backend).schedule, &shown);
    x.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::vector<std::vector<std::vector<float>>> outs(enc.size());
    for (std::size_t i = 0; i < enc.size(); ++i)
        for (std::size_t q = 0; q < enc[i].sequences.size(); ++q)
            outs[i].push_back(x.results[x.first_seq[i] + q].logits);
    x.predicted = decode_all(task, examples, enc, outs, net.cfg.vocab);
    return x;
}

bool has_task_head(const std::string& path) {
    // the config attribute alone: the weights are read once, by whoever runs the checkpoint
    const h5::file f(path, h5::mode::read);
    if (!f.has_attr("/", "config")) return false;  // not a checkpoint: the command's own load says so
    return !model_config::from_json(f.attr_string("/", "config"), path, "@config").task.empty();
}

int predict(const predict_request& r, std::ostream& out) {
    const loaded m(r.checkpoint);
    const energy_profile profile = energy_profile_from(r.profile);
    const task_data t = head_task(m, !r.choices.empty());
    const task_example e = example_of(t, r);
    const encoded_example enc = encode_example(t, e, m.tok, m.cfg.max_len);
    const simulated_examples sim = simulate_examples(m.net, t, {e}, {enc}, r.backend);
    std::vector<std::vector<float>> outs;
    for (const auto& x : sim.results) outs.push_back(x.logits);
    const task_prediction& p = sim.predicted.at(0);
    const input_energy en = energy_of(m, sim.seqs, sim.results, profile);

    nlohmann::json j = {{"checkpoint", r.checkpoint}, {"task", t.name}, {"kind", task_kind_name(t.kind)}};
    std::string text;
    const std::size_t C = t.labels.size();
    switch (t.kind) {
        case task_kind::classification:
        case task_kind::pair_classification: {
            const std::vector<double> prob = softmax(outs.at(0).data(), C);
            const std::size_t label = static_cast<std::size_t>(p.label);
            j["prediction"] = t.labels[label];
            j["probability"] = prob[label];
            std::vector<std::size_t> order(C);
            std::iota(order.begin(), order.end(), std::size_t{0});
            std::stable_sort(order.begin(), order.end(),
                             [&](std::size_t a, std::size_t b) { return prob[a] > prob[b]; });
            text = t.name + ": " + t.labels[label] + " (probability " + fixed(prob[label], 3) + ")\n  classes:";
            for (std::size_t i = 0; i < C; ++i) {
                j["probabilities"][t.labels[i]] = prob[i];
                if (i < 5) text += " " + t.labels[order[i]] + " " + fixed(prob[order[i]], 3);
            }
            if (C > 5) text += " ... (" + std::to_string(C - 5) + " more)";
            text += "\n";
            break;
        }
        case task_kind::regression:
            j["prediction"] = p.value;
            text = t.name + ": " + fixed(p.value, 4) + "\n";
            break;
        case task_kind::tagging: {
            text = t.name + ":";
            nlohmann::json tags = nlohmann::json::array(), probs = nlohmann::json::array();
            std::vector<double> word_prob(e.words.size(), 0.0);
            for (std::size_t i = 0; i < enc.token_word.size(); ++i)
                if (enc.token_word[i] >= 0) {
                    const std::vector<double> q = softmax(outs.at(0).data() + i * C, C);
                    word_prob[std::size_t(enc.token_word[i])] = *std::max_element(q.begin(), q.end());
                }
            for (std::size_t w = 0; w < e.words.size(); ++w) {
                const std::string tag = p.tags[w] >= 0 ? t.labels[std::size_t(p.tags[w])] : "";
                tags.push_back(tag);
                probs.push_back(word_prob[w]);
                text += " " + e.words[w] + "/" + (tag.empty() ? "?" : tag);
            }
            j["words"] = e.words;
            j["prediction"] = tags;
            j["probability"] = probs;
            if (std::find(p.tags.begin(), p.tags.end(), -1) != p.tags.end())
                text += "\n  (?: the word fell outside the model's " + std::to_string(m.cfg.max_len) + "-token window)";
            text += "\n";
            break;
        }
        case task_kind::span_qa:
            j["prediction"] = p.answer;
            text = t.name + ": " + (p.answer.empty() ? "(no span of the context)" : "\"" + p.answer + "\"") + "\n";
            break;
        case task_kind::multiple_choice: {
            const std::size_t chosen = static_cast<std::size_t>(p.label);
            j["prediction"] = chosen;
            j["prediction_norm"] = choose_acc_norm(p.choices);
            j["loglik"] = p.choices.loglik;
            text = "choice " + std::to_string(chosen + 1) + ": \"" + e.choices[chosen] + "\"\n";
            for (std::size_t c = 0; c < e.choices.size(); ++c)
                text += "  " + std::to_string(c + 1) + ". log-likelihood " + fixed(p.choices.loglik[c], 3) + ", " +
                        fixed(p.choices.loglik[c] / double(std::max<std::size_t>(1, p.choices.cont_bytes[c])), 3) +
                        " per byte: \"" + e.choices[c] + "\"\n";
            break;
        }
    }
    j["energy"] = energy_json(en, profile.name);
    j["simulation_seconds"] = sim.seconds;
    if (r.json) {
        out << j.dump() << "\n";
        return 0;
    }
    out << text << energy_line(en, profile.name, "") << "; " << en.tokens << " tokens through the simulator ("
        << r.backend << ")\n"
        << simulation_speed(sim.seqs, sim.seconds, r.backend) << "\n";
    return 0;
}

int evaluate_task_checkpoint(const task_eval_request& r, std::ostream& out) {
    const loaded m(r.checkpoint);
    const energy_profile profile = energy_profile_from(r.profile);
    const bool mc = m.cfg.task.empty();
    if (mc && r.data.empty())
        throw config_error("--data: " + r.checkpoint +
                           " has no task head; give a multiple-choice file (--data with --format arc, openbookqa, "
                           "piqa, hellaswag or winogrande)");
    const task_data head = mc ? task_data{} : head_task(m, false);
    const std::vector<std::string> builtins = builtin_task_names();
    const bool builtin = !mc && std::find(builtins.begin(), builtins.end(), head.name) != builtins.end();
    task_data t;
    if (r.data.empty()) {
        if (!builtin)
            throw config_error("--data: task " + head.name + " is not built in; give its evaluation file (--data)");
        if (r.split != "valid" && r.split != "test")
            throw config_error("--split: \"" + r.split + "\", expected valid or test");
        t = builtin_task(head.name, default_data_dir(), {4000, r.max_examples ? r.max_examples : 400});
        if (r.split == "valid") t.test = t.valid;
    } else {
        if (builtin)
            throw config_error("--data: task " + head.name +
                               " is built in and reads its corpus; leave --data out and choose --split valid | test");
        task_scenario s;
        s.origin = "command line";
        s.format = r.format;
        if (s.format.empty()) {
            if (mc)
                throw config_error("--format: name the format of " + r.data +
                                   " (arc, openbookqa, piqa, hellaswag or winogrande)");
            s.format = head.name == "boolq" || head.name == "squad" ? head.name : "glue";
        }
        s.name = head.name;
        s.train_file = s.eval_file = r.data;
        t = load_task(s);
        if (r.max_examples && t.test.size() > r.max_examples) t.test.resize(r.max_examples);
    }
    t.train.clear();
    if (!mc && (t.kind != head.kind || t.labels != head.labels))
        throw config_error((r.data.empty() ? head.name : r.data) + ": task " + t.name + " is " +
                           task_kind_name(t.kind) + " with " + std::to_string(t.labels.size()) +
                           " labels; the checkpoint's head is " + m.cfg.task_kind + " with " +
                           std::to_string(head.labels.size()));
    if (t.test.empty()) throw config_error((r.data.empty() ? head.name : r.data) + ": no evaluation examples");

    std::vector<encoded_example> enc;
    std::size_t sequences = 0;
    for (const auto& e : t.test) {
        enc.push_back(encode_example(t, e, m.tok, m.cfg.max_len));
        sequences += enc.back().sequences.size();
    }
    out << "task " << t.name << " (" << task_kind_name(t.kind) << "): simulating " << t.test.size() << " examples, "
        << sequences << " sequences (event-driven, " << r.backend << ")\n";
    const simulated_examples sim = simulate_examples(m.net, t, t.test, enc, r.backend);
    out << simulation_speed(sim.seqs, sim.seconds, r.backend) << "\n";
    const std::vector<task_prediction>& predicted = sim.predicted;
    if (!r.predictions.empty()) write_text_atomically(r.predictions, predictions_jsonl(t, predicted));
    const bool labelled = std::all_of(t.test.begin(), t.test.end(), [&](const task_example& e) {
        switch (t.kind) {
            case task_kind::tagging:
                return !e.tags.empty();
            case task_kind::span_qa:
                return !e.answers.empty();
            case task_kind::regression:
                return true;
            default:
                return e.label >= 0;
        }
    });
    if (labelled) {
        const auto metrics = task_metrics(t, t.test, predicted);
        out << t.name << " (" << t.test.size() << " examples), " << t.metric << " " << fixed(headline(t, metrics), 4);
        for (const auto& [name, v] : metrics)
            if (name != t.metric) out << ", " << name << " " << fixed(v, 4);
        out << "\n";
    } else {
        out << t.name << ": the examples have no labels; predictions only\n";
    }
    const input_energy en = energy_of(m, sim.seqs, sim.results, profile);
    input_energy per = en;
    for (double* v : {&per.full_pj, &per.paper_pj, &per.twin_full_pj, &per.twin_paper_pj}) *v /= double(t.test.size());
    out << energy_line(per, profile.name, " per example") << "; " << en.tokens << " tokens\n";
    if (!r.predictions.empty()) out << "written: " << r.predictions << "\n";
    return 0;
}

}  // namespace wtasim
