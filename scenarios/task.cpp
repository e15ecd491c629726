// The task scenario's schema and its task data (scenarios/task.hpp).
#include "scenarios/task.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "scenarios/common.hpp"
#include "sim/engine.hpp"

namespace wtasim {

namespace {
bool is_multiple_choice_format(const std::string& f) {
    return f == "arc" || f == "openbookqa" || f == "piqa" || f == "hellaswag" || f == "winogrande";
}
}  // namespace

task_scenario task_scenario::from_json(const std::string& text, const std::string& origin) {
    const scenario_text file = parse_scenario(text, origin);
    json_reader r = scenario_root(file);
    task_scenario s;
    s.origin = origin;
    s.json = file.json;
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
    s.train_file = t.get_path("train", "", true);
    s.eval_file = t.get_path("eval", "", true);
    if (!s.format.empty())
        for (const char* key : {"train", "eval"})
            if (!t.has(key))
                t.fail(key, nullptr, "missing: the " + std::string(key) + " file of the " + s.format + " task");
    t.finish();
    json_reader d = r.object("data");
    s.data_dir = read_data_dir(d);
    s.limits.max_train = d.get_uint("max_train", s.limits.max_train);
    s.limits.max_eval = d.get_uint("max_eval", s.limits.max_eval);
    s.split = d.get_string("split", "test", {"valid", "test"});
    d.finish();
    json_reader m = r.object("models");
    if (!m.has("spiking")) m.fail("spiking", nullptr, "missing: the pretrained spiking checkpoint (HDF5)");
    s.spiking_checkpoint = m.get_path("spiking", "", true);
    s.ann_checkpoint = m.get_path("ann", "", true);
    m.finish();
    json_reader f = r.object("finetune");
    finetune_config& c = s.finetune;
    c.steps = f.get_uint("steps", c.steps, 1, 1u << 24);
    c.batch = f.get_uint("batch", c.batch, 1, 1u << 16);
    c.lr = f.get_number("lr", c.lr, 0.0, 10.0, true);
    c.min_lr = f.get_number("min_lr", c.min_lr, 0.0, 10.0);
    c.warmup = f.get_uint("warmup", c.warmup);
    if (f.has("warmup") && c.warmup > c.steps)
        f.fail("warmup", c.warmup, "longer than the run: must be <= /finetune/steps = " + std::to_string(c.steps));
    c.weight_decay = f.get_number("weight_decay", c.weight_decay, 0.0, 1.0);
    c.clip = f.get_number("clip", c.clip, 0.0, 1e9);
    c.seed = f.get_uint("seed", c.seed);
    c.threads = f.get_uint("threads", 0, 0, 1024);
    c.log_every = f.get_uint("log_every", c.log_every, 1, 1u << 24);
    if (f.has("distill")) {  // the teacher is the fine-tuned ANN twin of /models/ann (docs/model.md §10)
        json_reader k = f.object("distill");
        c.distill.enabled = true;
        c.distill.weight = k.get_number("weight", c.distill.weight, 0.0, 1.0);
        c.distill.temperature = k.get_number("temperature", c.distill.temperature, 0.0, 1e3, true);
        c.distill.hidden_weight = k.get_number("hidden_weight", c.distill.hidden_weight, 0.0, 1e6);
        k.finish();
        if (s.ann_checkpoint.empty())
            f.fail("distill", file.root["finetune"]["distill"],
                   "needs /models/ann: the teacher is the ANN twin, fine-tuned on the task first");
    }
    f.finish();
    json_reader e = r.object("eval");
    s.backend = read_sim_backend(e, "backend");
    s.trace_examples = e.get_uint("trace_examples", s.trace_examples, 0, 1u << 16);
    e.finish();
    json_reader en = r.object("energy");
    s.profile = read_energy_profile(en, "profile", s.profile);
    en.finish();
    s.output = r.get_path("output", "runs/tasks/" + (s.builtin.empty() ? s.name : s.builtin));
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
    if (!backend.empty()) s.backend = backend;
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
        t = {"boolq", task_kind::pair_classification, "accuracy", {"False", "True"}, {"false", "true"}, {}, {}, {}};
        t.train = read_boolq_jsonl(s.train_file);
        t.test = read_boolq_jsonl(s.eval_file);
    } else if (is_multiple_choice_format(s.format)) {
        t = {s.format, task_kind::multiple_choice, "acc", {}, {}, {}, {}, {}};
        t.train = read_multiple_choice_jsonl(s.format, s.train_file);
        t.test = read_multiple_choice_jsonl(s.format, s.eval_file);
    } else {
        t = {"squad", task_kind::span_qa, "f1", {}, {}, {}, {}, {}};
        t.train = read_squad_json(s.train_file);
        t.test = read_squad_json(s.eval_file);
    }
    return t;
}

}  // namespace wtasim
