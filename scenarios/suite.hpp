// The task suite (`wtasim suite <suite.json>`): a list of task scenarios plus the held-out LM perplexity of
// the pretrained models, and one Markdown table of score and energy per example (docs/tasks.md).
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

#include "scenarios/task.hpp"

namespace wtasim {

// The suite: {"tasks": ["scenarios/tasks/x.json", ...], "lm": {"spiking": ckpt, "ann": ckpt, "split": "test",
// "sequences": 64, "seq_len": 64}, "output": "runs/suite", "table": "runs/suite/table.md", "threads": 0}.
// Parsed and validated (every task scenario loaded, every file checked) before anything runs.
struct suite_scenario {
    std::string origin;
    std::vector<std::string> tasks;  // resolved paths
    std::vector<task_scenario> scenarios;
    std::string lm_spiking, lm_ann, corpus = "kjv", data_dir;
    std::size_t sequences = 32, batches = 60;
    std::string output, profile;
    std::size_t threads = 0;

    static suite_scenario from_json(const std::string& text, const std::string& origin, const task_overrides& o);
};

int run_suite(const std::string& path, const task_overrides& o, std::ostream& out);

}  // namespace wtasim
