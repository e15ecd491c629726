// Fine-tuning a pretrained model on a downstream task (docs/model.md §5 losses): cross-entropy on the task
// head (classification, pair, tagging, start and end of a span), MSE (regression), and for multiple choice
// cross-entropy over the choices' summed LM log-likelihoods. Batches are drawn by (seed, step). With a teacher
// (distillation, docs/model.md §10) the classification and tagging losses become
//   (1 - w) L_task + w tau^2 KL(softmax(z_t / tau) || softmax(z_s / tau)) + w_h sum_l MSE(X_t^l, mean_t X_s^l).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "model/checkpoint.hpp"
#include "tasks/encode.hpp"
#include "training/distill.hpp"
#include "training/language_model.hpp"

namespace wtasim {

struct finetune_config {
    std::size_t steps = 200, batch = 16, threads = 0, log_every = 50;
    double lr = 1e-3, min_lr = 1e-4, weight_decay = 0.01, clip = 1.0;
    std::uint64_t warmup = 20, seed = 1;
    distill_config distill;  // weight, temperature, hidden_weight (the teacher is passed to finetune)
};

// Whether distillation can fine-tune a task of this kind (classification, pair classification, tagging: a task
// head whose outputs are logits of a softmax).
bool distillable(task_kind kind);

// Copies every parameter and buffer of `pretrained` into `m` (the task head stays as initialised); throws
// io_error naming the file and tensor for a missing or mis-shaped one.
void load_pretrained(language_model& m, const checkpoint& pretrained, const std::string& origin);

// Fine-tunes `m` on `train` (examples drawn by (seed, step)); one line per log_every steps to `log`.
// Returns the mean training loss (the task loss) of the last log interval. `teacher` (a fine-tuned model of the
// same task, run in evaluation mode) is used when cfg.distill is enabled; the task must be distillable.
double finetune(language_model& m, const task_data& task, const std::vector<encoded_example>& train,
                const finetune_config& cfg, std::ostream& log, language_model* teacher = nullptr);

}  // namespace wtasim
