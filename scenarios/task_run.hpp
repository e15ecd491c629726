// Running a task scenario (`wtasim task <scenario.json>`; schema in scenarios/task.hpp, docs/tasks.md). It fine-tunes a
// pretrained spiking checkpoint and its equal-size ANN twin on one task, scores both on the evaluation split — the
// spiking model through the event-driven simulator (and, as a cross-check, through the trainer's forward) — against the
// majority-class baseline, and writes the fine-tuned checkpoints, the energy report of the simulated evaluation (JSON /
// Markdown / HTML), an HDF5 trace of the first examples, and result.json. Its steps: prepare (data, checkpoint,
// encoding), fine-tune, score through the trainer, simulate and score, write predictions, energy report and trace, the
// twin.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "scenarios/task.hpp"

namespace wtasim {

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

}  // namespace wtasim
