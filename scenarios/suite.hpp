// The task suite (`wtasim suite <suite.json>`): a list of task scenarios plus the held-out LM perplexity of
// the pretrained models, and one Markdown table of score and energy per example (docs/tasks.md).
#pragma once

#include <iosfwd>
#include <string>

#include "scenarios/task.hpp"

namespace wtasim {

// The suite: {"tasks": ["scenarios/tasks/x.json", ...], "lm": {"spiking": ckpt, "ann": ckpt, "split": "test",
// "sequences": 64, "seq_len": 64}, "output": "runs/suite", "table": "runs/suite/table.md", "threads": 0}.
int run_suite(const std::string& path, const task_overrides& o, std::ostream& out);

}  // namespace wtasim
