// From outputs to predictions (docs/model.md §4): decode_outputs turns one example's head outputs (or LM
// logits per choice) into a prediction; the trainer's forward and the event-driven simulator both go
// through it, so they are scored identically. forward_outputs runs the trainer's evaluation forward.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tasks/encode.hpp"
#include "tasks/metrics.hpp"
#include "training/language_model.hpp"

namespace wtasim {

// One example's prediction from its outputs: `out` holds the head outputs of its sequence (sequence
// readout: [C]; token readout: [N, C]) or, for multiple choice, LM logits [N, V] of each choice in turn.
struct task_prediction {
    int label = -1;
    double value = 0.0;
    std::vector<int> tags;  // one per word (-1: the word fell outside the window)
    std::string answer;     // span QA
    choice_scores choices;  // multiple choice
};
task_prediction decode_outputs(const task_data& task, const task_example& e, const encoded_example& enc,
                               const std::vector<std::vector<float>>& outputs, std::size_t vocab);

// Outputs of each example through the trainer's evaluation forward (what decode_outputs takes), batched.
std::vector<std::vector<std::vector<float>>> forward_outputs(language_model& m, const task_data& task,
                                                             const std::vector<encoded_example>& examples,
                                                             std::size_t batch);

// decode_outputs of every example.
std::vector<task_prediction> decode_all(const task_data& task, const std::vector<task_example>& eval,
                                        const std::vector<encoded_example>& enc,
                                        const std::vector<std::vector<std::vector<float>>>& outs, std::size_t V);
// Whether two predictions agree (the simulator against the trainer's forward).
bool same_prediction(const task_prediction& a, const task_prediction& b);
// One line of predictions.jsonl: {"id", "prediction"} with the label's name, the value, the answer text, the
// word tags, or the chosen index (with "prediction_norm" and "loglik" for multiple choice).
// With the benchmark's own id ("index") when the file has one, the label as the benchmark writes it ("label",
// GLUE: "0" / "1", "entailment", ...), and a choice's own letter ("answer", ARC / OpenBookQA).
nlohmann::json prediction_json(const task_data& task, const task_example& e, const task_prediction& q);
// predictions.jsonl: prediction_json of every evaluation example (task.test), one line each.
std::string predictions_jsonl(const task_data& task, const std::vector<task_prediction>& predicted);

// The files a benchmark's submission takes, made from the predictions of the task's evaluation examples (name,
// content): GLUE "<Task>.tsv" (CoLA, SST-2, MRPC, QQP, STS-B, MNLI-m or MNLI-mm after the evaluation file's name,
// QNLI, RTE) with a header "index\tprediction" and one row per example, labels in GLUE's vocabulary, STS-B
// scores clipped to [0, 5]; SuperGLUE "BoolQ.jsonl", {"idx", "label": "true" | "false"} per line. An example
// without an index gets its position. None for other tasks.
std::vector<std::pair<std::string, std::string>> submission_files(const task_data& task,
                                                                  const std::vector<task_prediction>& predicted,
                                                                  const std::string& eval_file);

}  // namespace wtasim
