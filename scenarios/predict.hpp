// A fine-tuned task checkpoint on new inputs (docs/tasks.md, "Predicting with a fine-tuned model"):
// `wtasim predict` runs one input through the event-driven simulator and prints the class with its
// probability, the value, the tags, the span or the chosen option, with the energy of that input;
// `wtasim eval` on a task checkpoint scores a data file (or a built-in task's split) the same way.
// The checkpoint's config names the head's task, kind and label names (@config/task); a pretrained decoder
// without a head answers multiple choice by LM log-likelihood.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "sim/engine.hpp"
#include "tasks/encode.hpp"
#include "tasks/predict.hpp"

namespace wtasim {

// Every evaluation example of `task` (encoded as `enc`) through the simulator, all their sequences in one batch,
// decoded as the trainer's forward is decoded: what `wtasim task`, `wtasim eval` and `wtasim predict` score.
struct simulated_examples {
    std::vector<std::vector<std::int32_t>> seqs;  // every example's sequences, in order
    std::vector<std::size_t> first_seq;           // of each example
    std::vector<sim_result> results;
    std::vector<task_prediction> predicted;
    double seconds = 0;  // wall time of the simulation
};
simulated_examples simulate_examples(const sim_network& net, const task_data& task,
                                     const std::vector<task_example>& examples, const std::vector<encoded_example>& enc,
                                     const std::string& backend);

struct predict_request {
    std::string checkpoint;
    std::string text, text_b;          // the input; pair tasks: both texts; span QA: question, context
    std::vector<std::string> choices;  // multiple choice (a decoder without a task head): the continuations
    std::string profile = "horowitz45-fp32";
    std::string backend = "cpu";
    bool json = false;  // print one JSON object instead of text
};
// Prints the prediction and its energy; returns the exit status (0).
int predict(const predict_request& r, std::ostream& out);

struct task_eval_request {
    std::string checkpoint;
    std::string data;              // a file in the task's standard format (GLUE TSV, BoolQ / choice JSONL, SQuAD JSON)
    std::string format;            // its format when the checkpoint's task name does not say it (choice: "arc", ...)
    std::string split = "test";    // built-in tasks without a data file: "valid" or "test"
    std::size_t max_examples = 0;  // 0: all
    std::string predictions;       // write predictions.jsonl here (empty: none)
    std::string profile = "horowitz45-fp32";
    std::string backend = "cpu";
};
// Scores the examples through the simulator and prints the task's metrics and the energy per example.
int evaluate_task_checkpoint(const task_eval_request& r, std::ostream& out);

// Whether the checkpoint at `path` has a task head (then `simulate` and `eval` hand it to the functions above).
bool has_task_head(const std::string& path);

}  // namespace wtasim
