// Task scenarios (`wtasim task <scenario.json>`) and the task suite (`wtasim suite <suite.json>`), schema in
// docs/tasks.md. A task scenario fine-tunes a pretrained spiking checkpoint and its equal-size ANN twin on one
// task, scores both on the evaluation split — the spiking model through the event-driven simulator (and, as
// a cross-check, through the trainer's forward) — against the majority-class baseline, and writes the
// fine-tuned checkpoints, the energy report of the simulated evaluation (JSON / Markdown / HTML), an HDF5
// trace of the first examples, and result.json. The suite runs a list of task scenarios plus held-out LM
// perplexity and writes one Markdown table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "training/finetune.hpp"
#include "training/task_suite.hpp"

namespace wtasim {

struct task_scenario {
    std::string origin, json;
    // the task: a built-in one, or files in a standard format
    std::string builtin;                // "brown-genre", ...
    std::string format, name;           // "glue" + "sst2" | "boolq" | "arc" ... | "squad"
    std::string train_file, eval_file;  // standard formats: training and evaluation files
    std::string data_dir = "data";
    suite_limits limits;
    std::string split = "test";  // built-in tasks: the split scored ("valid" or "test")
    // the pretrained models
    std::string spiking_checkpoint, ann_checkpoint;  // ann empty: no twin column
    finetune_config finetune;
    std::string backend = "cpu";
    std::string profile = "horowitz45-fp32";
    std::size_t trace_examples = 2;  // examples kept in trace.h5 (0: no trace)
    std::string output = "runs/tasks/default";

    static task_scenario from_json(const std::string& text, const std::string& origin);
    static task_scenario load(const std::string& path);
};

// The data of the scenario's task (built-in or read from the standard-format files).
task_data load_task(const task_scenario& s);

struct model_score {
    bool present = false;
    std::vector<std::pair<std::string, double>> metrics;
    double score = 0;                                // the headline metric
    double energy_paper_pj = 0, energy_full_pj = 0;  // per example
    double train_loss = 0;
};

struct task_result {
    std::string task, metric, kind;
    std::size_t train_examples = 0, eval_examples = 0;
    model_score spiking, spiking_trainer, ann;
    double majority = 0;
    double agreement = 0;    // fraction of examples where simulator and trainer predict the same
    std::size_t traced = 0;  // examples in trace.h5
    double traced_paper_pj = 0, traced_full_pj = 0;  // their energy (check: tests/sim/check_trace.py)
    std::string json() const;
};

// Runs one task scenario; progress and the summary to `out`; writes `output`/result.json and the rest.
task_result run_task(const task_scenario& s, std::ostream& out);

// Command-line overrides for quick runs (CI runs every shipped scenario at a tiny size): 0 / empty = keep.
struct task_overrides {
    std::size_t steps = 0, max_train = 0, max_eval = 0;
    std::string output;  // a task's output folder; in a suite, the suite's (tasks go to <output>/<task>)
    void apply(task_scenario& s) const;
};

// The suite: {"tasks": ["scenarios/tasks/x.json", ...], "lm": {"spiking": ckpt, "ann": ckpt, "split": "test",
// "sequences": 64, "seq_len": 64}, "output": "runs/suite", "table": "runs/suite/table.md", "threads": 0}.
int run_suite(const std::string& path, const task_overrides& o, std::ostream& out);

}  // namespace wtasim
