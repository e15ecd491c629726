// Task metrics against values worked out independently of wtasim: small confusion matrices and correlations
// by hand (the arithmetic is in the comments), larger vectors by numpy (the expression that produced each
// literal is quoted), and SQuAD normalisation by the official evaluate-v1.1.py normalize_answer run in Python.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "tasks/metrics.hpp"

using namespace wtasim;

namespace {
doctest::Approx near(double v) {
    return doctest::Approx(v).epsilon(1e-12);
}

// Shared by the numpy cases. Generated with numpy.random.default_rng(7):
//   gold = np.round(rng.uniform(0, 5, 32) * 2) / 2;  pred = np.round((gold + rng.normal(0, 1.0, 32)) * 4) / 4
const std::vector<double> sts_gold = {3.0, 4.5, 4.0, 1.0, 1.5, 4.5, 0.0, 4.0, 4.0, 2.5, 1.5, 1.5, 1.5, 2.0, 2.5, 3.0,
                                      5.0, 4.0, 3.0, 5.0, 1.0, 1.0, 3.0, 0.0, 0.0, 2.5, 2.5, 4.5, 3.0, 2.5, 2.5, 1.0};
const std::vector<double> sts_pred = {3.25, 3.5,   3.25, 2.0, 0.75, 4.5, 1.0,  3.5,  4.0,  2.5,   1.5,
                                      0.25, 1.5,   3.25, 1.0, 3.75, 5.0, 3.25, 5.0,  5.75, -0.25, 1.0,
                                      3.5,  -0.25, 0.75, 2.5, 3.25, 6.0, 2.25, 2.75, 2.0,  1.25};
// CoLA-like: 70% acceptable. cola_gold = (rng.uniform(size=40) < 0.7).astype(int);
//   cola_pred = np.where(rng.uniform(size=40) < 0.8, cola_gold, 1 - cola_gold)
const std::vector<int> cola_gold = {1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 1,
                                    0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1};
const std::vector<int> cola_pred = {0, 1, 1, 1, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1,
                                    0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0};
// Three classes (MNLI-like). m_gold = rng.integers(0, 3, 36);
//   m_pred = np.where(rng.uniform(size=36) < 0.6, m_gold, rng.integers(0, 3, 36))
const std::vector<int> m_gold = {1, 1, 2, 2, 0, 0, 0, 1, 0, 1, 1, 2, 2, 0, 2, 2, 2, 2,
                                 0, 2, 0, 1, 2, 2, 0, 0, 1, 1, 2, 0, 0, 0, 1, 0, 0, 2};
const std::vector<int> m_pred = {1, 1, 2, 2, 0, 2, 0, 1, 0, 1, 0, 2, 2, 0, 1, 0, 0, 2,
                                 1, 2, 2, 1, 0, 2, 0, 0, 1, 1, 2, 0, 0, 0, 1, 2, 0, 2};
}  // namespace

TEST_CASE("task metrics: accuracy and binary F1 from a hand-counted confusion matrix") {
    // pred 1 0 1 1 0 / gold 1 1 1 0 0: correct at 0, 2, 4 -> 3/5.
    // positive 1: tp {0,2} = 2, fp {3} = 1, fn {1} = 1 -> P = R = 2/3, F1 = 2/3.
    // positive 0: tp {4} = 1, fp {1} = 1, fn {3} = 1 -> F1 = 2*1 / (2*1 + 1 + 1) = 1/2.
    const std::vector<int> pred = {1, 0, 1, 1, 0}, gold = {1, 1, 1, 0, 0};
    CHECK(accuracy(pred, gold) == near(0.6));
    CHECK(f1_binary(pred, gold) == near(2.0 / 3.0));
    CHECK(f1_binary(pred, gold, 0) == near(0.5));
    // No true positive: F1 = 0 (sklearn zero_division=0), both when nothing is predicted positive ...
    CHECK(f1_binary({0, 0, 0}, {1, 0, 1}) == 0.0);
    // ... and when every positive prediction is wrong.
    CHECK(f1_binary({1, 1, 0}, {0, 0, 1}) == 0.0);
    CHECK(f1_binary({1, 0, 1}, {1, 0, 1}) == 1.0);
    CHECK(accuracy({2, 2}, {2, 2}) == 1.0);
}

TEST_CASE("task metrics: macro F1 averages per-class F1, an unseen class counting 0") {
    // classes 3, pred 0 0 1 2 2 2 / gold 0 1 1 2 2 0:
    //   class 0: tp {0}, fp {1}, fn {5}        -> 2/(2+1+1) = 1/2
    //   class 1: tp {2}, fp -, fn {1}          -> 2/(2+0+1) = 2/3
    //   class 2: tp {3,4}, fp {5}, fn -        -> 4/(4+1+0) = 4/5
    //   mean = (15 + 20 + 24) / 30 / 3 = 59/90
    const std::vector<int> pred = {0, 0, 1, 2, 2, 2}, gold = {0, 1, 1, 2, 2, 0};
    CHECK(f1_macro(pred, gold, 3) == near(59.0 / 90.0));
    // sklearn f1_score(labels=[0, 1, 2, 3], average='macro', zero_division=0): class 3 has F1 0 -> 59/120.
    CHECK(f1_macro(pred, gold, 4) == near(59.0 / 120.0));
    // Two classes: macro F1 is the mean of both binary F1s.
    const std::vector<int> p2 = {1, 0, 1, 1, 0}, g2 = {1, 1, 1, 0, 0};
    CHECK(f1_macro(p2, g2, 2) == near((2.0 / 3.0 + 0.5) / 2.0));
    CHECK_THROWS_AS(f1_macro(pred, gold, 0), config_error);
}

TEST_CASE("task metrics: Matthews correlation, worked by hand and degenerate") {
    // pred 1 1 1 0 0 0 1 0 / gold 1 1 0 0 0 1 1 0: tp {0,1,6} = 3, fp {2} = 1, fn {5} = 1, tn {3,4,7} = 3.
    // MCC = (3*3 - 1*1) / sqrt(4 * 4 * 4 * 4) = 8 / 16.
    CHECK(matthews_corrcoef({1, 1, 1, 0, 0, 0, 1, 0}, {1, 1, 0, 0, 0, 1, 1, 0}) == near(0.5));
    CHECK(matthews_corrcoef({0, 1}, {1, 0}) == near(-1.0));  // (0*0 - 1*1) / sqrt(1*1*1*1)
    CHECK(matthews_corrcoef({0, 1, 1}, {0, 1, 1}) == near(1.0));
    // A constant prediction empties a marginal: 0, as sklearn (majority-class baseline on CoLA scores 0).
    CHECK(matthews_corrcoef(std::vector<int>(cola_gold.size(), 1), cola_gold) == 0.0);
    CHECK(matthews_corrcoef(std::vector<int>(cola_gold.size(), 0), cola_gold) == 0.0);
    CHECK(matthews_corrcoef({1, 0, 1}, {1, 1, 1}) == 0.0);  // constant gold
    // The binary matrix only: other labels are an error, not silently negative.
    CHECK_THROWS_AS(matthews_corrcoef({0, 2}, {0, 1}), config_error);
    CHECK_THROWS_AS(matthews_corrcoef({0, 1}, {-1, 1}), config_error);
}

TEST_CASE("task metrics: CoLA-like unbalanced vectors against numpy") {
    // tp = np.sum((cola_pred==1)&(cola_gold==1)) = 21, tn = 9, fp = 1, fn = 9;
    // (tp*tn - fp*fn) / np.sqrt(float((tp+fp)*(tp+fn)*(tn+fp)*(tn+fn)))
    CHECK(matthews_corrcoef(cola_pred, cola_gold) == near(0.5222329678670935));
    CHECK(f1_binary(cola_pred, cola_gold) == near(0.8076923076923077));  // 2*tp / (2*tp + fp + fn)
    CHECK(accuracy(cola_pred, cola_gold) == near(0.75));                 // np.mean(cola_pred == cola_gold)
}

TEST_CASE("task metrics: three-class macro F1 against numpy") {
    // f1 = lambda c: 2*np.sum((m_pred==c)&(m_gold==c)) / (np.sum(m_pred==c) + np.sum(m_gold==c))
    // np.mean([f1(c) for c in range(3)]); per class 0.7142857142857143, 0.8421052631578947, 0.72
    CHECK(f1_macro(m_pred, m_gold, 3) == near(0.7587969924812029));
    CHECK(f1_binary(m_pred, m_gold, 1) == near(0.8421052631578947));
    CHECK(f1_binary(m_pred, m_gold, 2) == near(0.72));
    CHECK(accuracy(m_pred, m_gold) == near(0.75));
}

TEST_CASE("task metrics: Pearson and Spearman worked by hand") {
    // x 1 2 3, y 2 4 7: means 2 and 13/3; dx -1 0 1, dy -7/3 -1/3 8/3;
    // sxy = 7/3 + 8/3 = 5, sxx = 2, syy = (49 + 1 + 64)/9 = 38/3 -> r = 5 / sqrt(76/3) = sqrt(75/76).
    CHECK(pearson({1, 2, 3}, {2, 4, 7}) == near(std::sqrt(75.0 / 76.0)));
    CHECK(pearson({1, 2, 3}, {6, 4, 2}) == near(-1.0));
    // Ties: x 10 20 20 30 ranks 1 2.5 2.5 4; y 1 3 2 4 ranks 1 3 2 4. Both mean 2.5;
    // dx -1.5 0 0 1.5, dy -1.5 .5 -.5 1.5: sxy = 4.5, sxx = 4.5, syy = 5 -> rho = 4.5/sqrt(22.5) = sqrt(0.9).
    CHECK(spearman({10, 20, 20, 30}, {1, 3, 2, 4}) == near(std::sqrt(0.9)));
    // Ranks only: a monotone curve is a perfect rank correlation, though not a linear one.
    CHECK(spearman({1, 2, 3, 4}, {1, 8, 27, 64}) == near(1.0));
    CHECK(spearman({1, 2, 3, 4}, {64, 27, 8, 1}) == near(-1.0));
    CHECK(pearson({1, 2, 3, 4}, {1, 8, 27, 64}) < 0.99);
    // Zero variance: 0 by our definition (numpy / scipy would give nan).
    CHECK(pearson({1, 1, 1}, {1, 2, 3}) == 0.0);
    CHECK(spearman({1, 2, 3}, {5, 5, 5}) == 0.0);
    CHECK(pearson({7}, {3}) == 0.0);
}

TEST_CASE("task metrics: STS-B-like Pearson and Spearman with ties against numpy") {
    // np.corrcoef(sts_pred, sts_gold)[0, 1]
    CHECK(pearson(sts_pred, sts_gold) == near(0.865315057847435));
    // r = lambda a: np.array([np.sum(a < v) + (np.sum(a == v) + 1) / 2 for v in a])   (average ranks)
    // np.corrcoef(r(sts_pred), r(sts_gold))[0, 1]
    CHECK(spearman(sts_pred, sts_gold) == near(0.8871613576362634));
    CHECK(spearman(sts_gold, sts_pred) == near(0.8871613576362634));
}

TEST_CASE("task metrics: SQuAD answer normalisation as the official script") {
    CHECK(squad_normalize("The Eiffel Tower!") == "eiffel tower");
    CHECK(squad_normalize("  New\tYork \n City ") == "new york city");
    CHECK(squad_normalize("U.S.A.") == "usa");
    CHECK(squad_normalize("rock-n-roll") == "rocknroll");
    // Articles only as whole words; "_" is punctuation, so "a_b" becomes one word "ab".
    CHECK(squad_normalize("Annie and the Anthem, theater") == "annie and anthem theater");
    CHECK(squad_normalize("A1 a_b") == "a1 ab");
    CHECK(squad_normalize("l'an") == "lan");  // punctuation goes before articles: "lan" is one word
    CHECK(squad_normalize("a an the") == "");
    CHECK(squad_normalize("") == "");
    // Beyond ASCII; expected strings from Python's normalize_answer (evaluate-v1.1.py):
    CHECK(squad_normalize("\u0178 \u00c9COLE \u2014 THE \u00c9lan") == "\u00ff \u00e9cole \u2014 \u00e9lan");
    CHECK(squad_normalize("\u039f\u0394\u039f\u03a3 \u03a3\u039f\u03a6\u039f\u03a3") ==
          "\u03bf\u03b4\u03bf\u03c2 \u03c3\u03bf\u03c6\u03bf\u03c2");  // final sigma
    CHECK(squad_normalize("the\u00a0end") == "end");                   // no-break space is whitespace
    CHECK(squad_normalize("a\u2019s") == "\u2019s");                   // ’ is a word boundary
    CHECK(squad_normalize("The \u201cEiffel\u201d Tower") == "\u201ceiffel\u201d tower");  // only ASCII quotes go
    CHECK(squad_normalize("Nguy\u1ec5n T\u1ea4n") == "nguy\u1ec5n t\u1ea5n");              // Vietnamese lower case
}

TEST_CASE("task metrics: SQuAD exact match and token F1") {
    CHECK(squad_exact_match("The Eiffel Tower!", {"eiffel tower"}) == 1.0);
    CHECK(squad_f1("The Eiffel Tower!", {"eiffel tower"}) == 1.0);
    // "a cat sat" -> [cat sat]; "the cat sat on the mat" -> [cat sat on mat]; 2 in common:
    // P = 2/2, R = 2/4, F1 = 2 * 1 * 0.5 / 1.5 = 2/3.
    CHECK(squad_exact_match("a cat sat", {"the cat sat on the mat"}) == 0.0);
    CHECK(squad_f1("a cat sat", {"the cat sat on the mat"}) == near(2.0 / 3.0));
    // Best over the golds. [big red dog] vs [red dog]: P 2/3, R 1 -> F1 0.8; vs [dog]: P 1/3, R 1 -> 0.5.
    CHECK(squad_f1("the big red dog", {"a dog", "red dog"}) == near(0.8));
    CHECK(squad_f1("the big red dog", {"a dog"}) == near(0.5));
    CHECK(squad_exact_match("the big red dog", {"a dog", "red dog"}) == 0.0);
    CHECK(squad_exact_match("Denver Broncos", {"Broncos", "the Denver Broncos", "Carolina"}) == 1.0);
    // Multiset overlap (Counter &): [cat cat cat] vs [cat cat dog] share 2 -> P = R = 2/3 -> F1 2/3.
    CHECK(squad_f1("the cat cat. Cat", {"cat cat dog"}) == near(2.0 / 3.0));
    // Empty prediction: nothing in common. An answer that normalises to nothing still matches exactly, but
    // its F1 is 0 (v1.1 returns 0 whenever no token is shared).
    CHECK(squad_exact_match("", {"Paris"}) == 0.0);
    CHECK(squad_f1("", {"Paris"}) == 0.0);
    CHECK(squad_exact_match("", {"the"}) == 1.0);
    CHECK(squad_f1("", {"the"}) == 0.0);
    CHECK(squad_f1("London", {"Paris", "Rome"}) == 0.0);
    CHECK_THROWS_AS(squad_exact_match("x", {}), config_error);
    CHECK_THROWS_AS(squad_f1("x", {}), config_error);
}

TEST_CASE("task metrics: multiple choice acc and acc_norm") {
    // loglik -5 -3 -3 -10: max -3 at 1 and 2 -> first, 1.
    // per byte -5/5 = -1, -3/3 = -1, -3/30 = -0.1, -10/20 = -0.5 -> 2.
    const choice_scores s{{-5.0, -3.0, -3.0, -10.0}, {5, 3, 30, 20}};
    CHECK(choose_acc(s) == 1);
    CHECK(choose_acc_norm(s) == 2);
    // Per-byte tie -2/2 = -4/4 -> the first choice.
    CHECK(choose_acc_norm({{-2.0, -4.0}, {2, 4}}) == 0);
    CHECK(choose_acc({{-7.5}, {1}}) == 0);
    CHECK_THROWS_AS(choose_acc({{-1.0, -2.0}, {1}}), config_error);
    CHECK_THROWS_AS(choose_acc({{}, {}}), config_error);
    CHECK_THROWS_AS(choose_acc_norm({{-1.0, -2.0}, {3, 0}}), config_error);
    CHECK_THROWS_AS(choose_acc({{-1.0, std::nan("")}, {1, 1}}), config_error);
}

TEST_CASE("task metrics: majority label ignores unlabelled examples and breaks ties low") {
    CHECK(majority_label({3, 3, 0}) == 3);
    CHECK(majority_label({2, 1, 2, 1, 0, -1, -1, -1}) == 1);  // 1 and 2 twice each, -1 (no label) skipped
    CHECK(majority_label(cola_gold) == 1);
    // The baseline it gives: always 1 on cola_gold is right on tp + fn = 21 + 9 = 30 of 40 examples.
    CHECK(accuracy(std::vector<int>(cola_gold.size(), majority_label(cola_gold)), cola_gold) == near(30.0 / 40.0));
    CHECK_THROWS_AS(majority_label({-1, -1}), config_error);
    CHECK_THROWS_AS(majority_label({}), config_error);
}

TEST_CASE("task metrics: mismatched or empty inputs are config errors naming the metric") {
    const std::vector<int> two = {0, 1}, three = {0, 1, 1}, none;
    CHECK_THROWS_AS(accuracy(two, three), config_error);
    CHECK_THROWS_AS(f1_binary(two, three), config_error);
    CHECK_THROWS_AS(f1_macro(two, three, 2), config_error);
    CHECK_THROWS_AS(matthews_corrcoef(three, two), config_error);
    CHECK_THROWS_AS(pearson({1.0, 2.0}, {1.0}), config_error);
    CHECK_THROWS_AS(spearman({1.0}, {1.0, 2.0}), config_error);
    CHECK_THROWS_AS(accuracy(none, none), config_error);
    CHECK_THROWS_AS(pearson({}, {}), config_error);
    CHECK_THROWS_WITH_AS(accuracy(two, three), doctest::Contains("accuracy"), config_error);
    CHECK_THROWS_WITH_AS(spearman({1.0}, {1.0, 2.0}), doctest::Contains("spearman"), config_error);
}
