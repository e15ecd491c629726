// Fine-tuning a pretrained model on a downstream task (docs/model.md §5 losses): cross-entropy on the task
// head (classification, pair, tagging, start and end of a span), MSE (regression), and for multiple choice
// cross-entropy over the choices' summed LM log-likelihoods. Batches are drawn by (seed, step).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "model/checkpoint.hpp"
#include "tasks/encode.hpp"
#include "training/language_model.hpp"

namespace wtasim {

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

}  // namespace wtasim
