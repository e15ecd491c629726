// Fine-tuning and evaluating a pretrained model on a downstream task (SPEC §4 readouts, §5 losses).
// - encode_example turns a task_example into token ids the way every consumer (trainer, simulator) sees it:
//   one text "<s> a </s>", two texts "<s> a </s> b </s>" (the longer one trimmed first to fit max_len);
//   tagging encodes word by word and labels each word's first piece (the rest are ignored, -1); span QA is
//   "<s> question </s> context window" with context words mapped to pieces (a long context gives several
//   windows overlapping by half; training uses the one holding the answer, evaluation scores all); multiple
//   choice is one sequence per choice, "<s> context continuation", with the continuation's first index
//   (context and continuation encoded separately, as lm-eval-harness does).
// - Losses: cross-entropy on the task head (classification, pair, tagging, start and end of a span), MSE
//   (regression), and for multiple choice cross-entropy over the choices' summed LM log-likelihoods.
// - decode_outputs turns one example's head outputs (or LM logits per choice) into a prediction; the
//   trainer's forward and the event-driven simulator both go through it, so they are scored identically.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "training/checkpoint.hpp"
#include "training/model.hpp"
#include "training/task_data.hpp"
#include "training/task_metrics.hpp"
#include "training/tokenizer.hpp"

namespace wtasim {

struct encoded_example {
    // one sequence per example; multiple choice: one per choice
    std::vector<std::vector<std::int32_t>> sequences;
    int label = -1;                        // class / gold choice
    float target = 0.0f;                   // regression
    std::vector<std::int32_t> token_tags;  // tagging: per token of sequences[0], -1 = not a word's first piece
    int start = -1, end = -1;              // span QA: answer pieces [start, end] in window answer_window
    int answer_window = -1;                // span QA: the first window holding the whole answer (-1: none)
    // tagging: the word of each word's first piece (-1 elsewhere); span QA: of the answer window (or the
    // first), the context word of each token (-1: question, specials)
    std::vector<int> token_word;
    std::vector<std::vector<int>> window_word;      // span QA: token_word of every window
    std::vector<std::size_t> word_begin, word_end;  // span QA: character range of each context word
    std::vector<std::size_t> cont_start;            // multiple choice: first continuation token of each sequence
    std::vector<std::size_t> cont_bytes;            // multiple choice: continuation length in bytes (acc_norm)
};

encoded_example encode_example(const task_data& task, const task_example& e, const tokenizer& tok, std::size_t max_len);

// The model config of a task: the pretrained config plus the task head its kind needs (none for choice).
model_config task_model_config(const model_config& pretrained, const task_data& task);

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

// The task's metrics over a split: {"accuracy": .., "f1": .., "mcc": .., "pearson": .., "spearman": ..,
// "exact_match": .., "acc": .., "acc_norm": ..} as they apply; the headline one is task.metric.
std::vector<std::pair<std::string, double>> task_metrics(const task_data& task, const std::vector<task_example>& gold,
                                                         const std::vector<task_prediction>& predicted);
double headline(const task_data& task, const std::vector<std::pair<std::string, double>>& metrics);

struct finetune_config {
    std::size_t steps = 200, batch = 16, threads = 0, log_every = 50;
    double lr = 1e-3, min_lr = 1e-4, weight_decay = 0.01, clip = 1.0;
    std::uint64_t warmup = 20, seed = 1;
};

// Copies every parameter and buffer of `pretrained` into `m` (the task head stays as initialised); throws
// io_error naming the file and tensor for a missing or mis-shaped one.
void load_pretrained(language_model& m, const checkpoint& pretrained, const std::string& origin);

// Fine-tunes `m` on `train` (examples drawn by (seed, step)); one line per log_every steps to `log`.
// Returns the mean training loss of the last log interval.
double finetune(language_model& m, const task_data& task, const std::vector<encoded_example>& train,
                const finetune_config& cfg, std::ostream& log);

// Outputs of each example through the trainer's evaluation forward (what decode_outputs takes), batched.
std::vector<std::vector<std::vector<float>>> forward_outputs(language_model& m, const task_data& task,
                                                             const std::vector<encoded_example>& examples,
                                                             std::size_t batch);

}  // namespace wtasim
