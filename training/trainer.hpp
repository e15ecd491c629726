// The trainer as a user runs it (`wtasim train <scenario.json>`, `wtasim eval <checkpoint>`):
// a training scenario names the model, the data, the tokenizer and the optimisation; the trainer
// tokenizes the corpus (training the SentencePiece model on the training split unless one is given),
// draws batches as pure functions of (seed, step) — so a resumed run sees exactly the batches an
// uninterrupted one would — and writes metrics as JSONL, progress to the terminal, and atomic HDF5
// checkpoints (docs/model.md §8) that `--resume` continues bit for bit.

// The scenario's schema and its reader are in scenarios/train.hpp.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "training/distill.hpp"
#include "training/language_model.hpp"
#include "training/objectives.hpp"

namespace wtasim {

struct train_scenario {
    std::string origin;  // the scenario file, for messages
    std::string json;    // the scenario as given (stored in checkpoints)
    model_config model;
    // data
    std::string corpus = "kjv", data_path, data_dir = "data";
    double valid_fraction = 0.05, test_fraction = 0.05;
    std::size_t max_documents = 0;
    // tokenizer
    std::size_t vocab_size = 2000;
    std::string tokenizer_model;
    std::string tokenizer_checkpoint;  // take the tokenizer stored in this checkpoint (e.g. the teacher's)
    // optimisation
    std::string objective = "clm";
    std::size_t steps = 100, batch = 8, seq_len = 64, accumulate = 1, threads = 0;
    std::size_t log_every = 10, eval_every = 50, eval_batches = 4, checkpoint_every = 50;
    std::uint64_t seed = 1;
    adamw_config opt;
    distill_config distill;  // /train/distill (docs/model.md §10); not enabled: plain training
    std::string output = "runs/default";
};

struct eval_result {
    double loss = 0, perplexity = 0, bits_per_byte = 0, masked_accuracy = 0;
    std::size_t tokens = 0;
};

struct train_options {
    bool resume = false;
    std::size_t stop_after = 0;  // stop (without a final checkpoint) after this many steps this run; 0 = never
};

// Runs (or resumes) the scenario; returns the final validation result.
eval_result train(const train_scenario& s, const train_options& o, std::ostream& out);
// Unigram (add-one) and bigram (Witten-Bell interpolated with the unigram) models of the training split,
// evaluated on the validation split with the same tokenizer: the baselines a language model must beat.
struct ngram_baselines {
    eval_result unigram, bigram;
};
ngram_baselines baselines(const train_scenario& s, std::ostream& out);

// Evaluates checkpoint `c` (read from `path`) on a split ("valid" or "test") of the data scenario `s` names
// (the model is the checkpoint's).
eval_result evaluate_checkpoint(const checkpoint& c, const std::string& path, const train_scenario& s,
                                const std::string& split_name, std::size_t batches, std::ostream& out);

}  // namespace wtasim
