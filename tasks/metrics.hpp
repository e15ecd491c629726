// Task metrics exactly as their tasks define them (docs/model.md §5):
// - accuracy; binary F1 of the positive class (label 1, as GLUE scores MRPC / QQP); macro F1 over classes;
// - Matthews correlation (CoLA) from the binary confusion matrix, 0 when a marginal is empty (as sklearn);
// - Pearson r and Spearman rho (STS-B); Spearman uses average ranks for ties (scipy.stats.spearmanr);
// - SQuAD v1.1 exact match and token F1 with the official answer normalisation (lower case, drop
//   punctuation, drop the articles a / an / the, collapse whitespace), best over the gold answers;
// - multiple choice: acc (argmax of summed log-likelihood) and acc_norm (argmax of log-likelihood divided by
//   the continuation's length in bytes), lm-eval-harness conventions; ties go to the first choice.
// All return fractions in [0, 1] (correlations in [-1, 1]), not percentages.
#pragma once

#include <string>
#include <vector>

namespace wtasim {

double accuracy(const std::vector<int>& predicted, const std::vector<int>& gold);
double f1_binary(const std::vector<int>& predicted, const std::vector<int>& gold, int positive = 1);
double f1_macro(const std::vector<int>& predicted, const std::vector<int>& gold, int classes);
double matthews_corrcoef(const std::vector<int>& predicted, const std::vector<int>& gold);
double pearson(const std::vector<double>& x, const std::vector<double>& y);
double spearman(const std::vector<double>& x, const std::vector<double>& y);

std::string squad_normalize(const std::string& answer);
double squad_exact_match(const std::string& prediction, const std::vector<std::string>& golds);
double squad_f1(const std::string& prediction, const std::vector<std::string>& golds);

struct choice_scores {
    std::vector<double> loglik;           // summed log P(continuation | context) per choice
    std::vector<std::size_t> cont_bytes;  // each continuation's length in bytes
};
int choose_acc(const choice_scores& s);
int choose_acc_norm(const choice_scores& s);

// The majority-class baseline: the most frequent label of `train` (ties: the smaller index), scored on `gold`.
int majority_label(const std::vector<int>& train);

}  // namespace wtasim
