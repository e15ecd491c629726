// Task scenarios (`wtasim task <scenario.json>`, and each task of a suite): the validated JSON that names a
// task (built-in, or files in a standard format), the pretrained checkpoints, the fine-tuning and the
// evaluation (docs/tasks.md). Relative paths resolve against the scenario file's folder. "finetune": {...,
// "distill": {"weight", "temperature", "hidden_weight"}} fine-tunes the ANN twin first and distils it into the
// spiking model (docs/model.md §10).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "tasks/finetune.hpp"
#include "tasks/formats.hpp"
#include "tasks/predict.hpp"
#include "tasks/score.hpp"
#include "tasks/suite.hpp"

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

// Command-line overrides for quick runs (CI runs every shipped scenario at a tiny size): 0 / empty = keep.
struct task_overrides {
    std::size_t steps = 0, max_train = 0, max_eval = 0;
    std::string output;   // a task's output folder; in a suite, the suite's (tasks go to <output>/<task>)
    std::string backend;  // the simulator backend of every simulation instead of the scenario's /eval/backend
    void apply(task_scenario& s) const;
};

}  // namespace wtasim
