// Scoring a split (docs/model.md §5): the metrics that apply to the task's kind, from gold examples and
// predictions, and the task's headline metric.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tasks/predict.hpp"

namespace wtasim {

// The task's metrics over a split: {"accuracy": .., "f1": .., "mcc": .., "pearson": .., "spearman": ..,
// "exact_match": .., "acc": .., "acc_norm": ..} as they apply; the headline one is task.metric.
std::vector<std::pair<std::string, double>> task_metrics(const task_data& task, const std::vector<task_example>& gold,
                                                         const std::vector<task_prediction>& predicted);
double headline(const task_data& task, const std::vector<std::pair<std::string, double>>& metrics);

// The majority-class baseline's headline score on `eval`: the most frequent training label (tag, gold choice)
// predicted everywhere (NaN for span QA; 0 for regression, whose constant prediction has no correlation).
double majority_score(const task_data& task, const std::vector<task_example>& eval);

}  // namespace wtasim
