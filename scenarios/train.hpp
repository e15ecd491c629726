// Train scenarios (`wtasim train <scenario.json>`, `wtasim baselines`, and the scenario a checkpoint records
// for `wtasim eval`): the validated JSON that becomes the trainer's train_scenario (training/trainer.hpp).
// Relative paths (data/path, data/data_dir, tokenizer/model, tokenizer/from, train/distill/teacher, output) resolve
// against the file's folder.
// Scenario (JSON; every key optional except where noted):
//   {"model": {...model_config...},
//    "data": {"corpus": "kjv" | "brown" | "spam-assassin", or "path": "file.txt|file.jsonl", "data_dir" (default: the
//    installed corpora),
//             "valid_fraction": 0.05, "test_fraction": 0.05, "max_documents": 0 (all)},
//    "tokenizer": {"vocab_size": 2000} or {"model": "user.model"} or {"from": "checkpoint.h5"} (its stored tokenizer),
//    "train": {"objective": "clm" | "mlm", "steps", "batch", "seq_len", "accumulate", "lr", "min_lr", "warmup",
//              "weight_decay", "clip", "seed", "threads", "log_every", "eval_every", "eval_batches",
//              "checkpoint_every",
//              "distill": {"teacher": "teacher.h5" (required), "weight": 0.5, "temperature": 1.0,
//                          "hidden_weight": 0.0}},
//    "output": "runs/name"}
#pragma once

#include <iosfwd>
#include <string>

#include "training/trainer.hpp"

namespace wtasim {

train_scenario parse_train_scenario(const std::string& text, const std::string& origin);
train_scenario load_train_scenario(const std::string& path);

// `wtasim eval`: the checkpoint at `path` on a split of the data that its recorded scenario names.
eval_result evaluate_checkpoint_file(const std::string& path, const std::string& split, std::size_t batches,
                                     std::ostream& out);

}  // namespace wtasim
