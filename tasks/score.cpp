// Task metrics over a split (tasks/score.hpp).
#include "tasks/score.hpp"

#include <cmath>

#include "tasks/detail.hpp"

namespace wtasim {
using namespace task_detail;

std::vector<std::pair<std::string, double>> task_metrics(const task_data& task, const std::vector<task_example>& gold,
                                                         const std::vector<task_prediction>& predicted) {
    std::vector<std::pair<std::string, double>> m;
    std::vector<int> g, p, pn;
    std::vector<double> gv, pv;
    double em = 0, f1 = 0;
    std::size_t qa = 0;
    for (std::size_t i = 0; i < gold.size(); ++i) {
        const task_example& e = gold[i];
        const task_prediction& q = predicted.at(i);
        switch (task.kind) {
            case task_kind::regression:
                gv.push_back(e.target);
                pv.push_back(q.value);
                break;
            case task_kind::tagging:
                for (std::size_t w = 0; w < e.tags.size(); ++w) g.push_back(e.tags[w]), p.push_back(q.tags.at(w));
                break;
            case task_kind::span_qa:
                if (e.answers.empty()) break;
                em += squad_exact_match(q.answer, e.answers);
                f1 += squad_f1(q.answer, e.answers);
                ++qa;
                break;
            case task_kind::multiple_choice:
                if (e.label < 0) break;
                g.push_back(e.label);
                p.push_back(choose_acc(q.choices));
                pn.push_back(choose_acc_norm(q.choices));
                break;
            default:
                if (e.label < 0) break;
                g.push_back(e.label);
                p.push_back(q.label);
        }
    }
    switch (task.kind) {
        case task_kind::regression:
            if (gv.size() > 1) m = {{"pearson", pearson(pv, gv)}, {"spearman", spearman(pv, gv)}};
            break;
        case task_kind::span_qa:
            if (qa) m = {{"exact_match", em / double(qa)}, {"f1", f1 / double(qa)}};
            break;
        case task_kind::multiple_choice:
            if (!g.empty()) m = {{"acc", accuracy(p, g)}, {"acc_norm", accuracy(pn, g)}};
            break;
        default:
            if (g.empty()) break;
            m.push_back({"accuracy", accuracy(p, g)});
            if (task.labels.size() == 2 && task.kind != task_kind::tagging) {
                m.push_back({"f1", f1_binary(p, g)});
                m.push_back({"mcc", matthews_corrcoef(p, g)});
            } else {
                m.push_back({"macro_f1", f1_macro(p, g, static_cast<int>(task.labels.size()))});
            }
    }
    return m;
}

double headline(const task_data& task, const std::vector<std::pair<std::string, double>>& metrics) {
    for (const auto& [k, v] : metrics)
        if (k == task.metric) return v;
    return metrics.empty() ? std::nan("") : metrics.front().second;
}

// The majority-class baseline's predictions: the most frequent training label (tag, gold choice) everywhere.
double majority_score(const task_data& task, const std::vector<task_example>& eval) {
    if (task.kind == task_kind::span_qa) return std::nan("");
    std::vector<int> labels;
    double mean = 0;
    for (const auto& e : task.train) {
        if (task.kind == task_kind::tagging)
            labels.insert(labels.end(), e.tags.begin(), e.tags.end());
        else
            labels.push_back(e.label);
        mean += e.target / double(task.train.size());
    }
    const int major = task.kind == task_kind::regression ? 0 : majority_label(labels);
    std::vector<task_prediction> p(eval.size());
    for (std::size_t i = 0; i < eval.size(); ++i) {
        p[i].label = major;
        p[i].value = mean;
        p[i].tags.assign(eval[i].words.size(), major);
        // a constant choice: every choice scores the same except the majority position
        for (std::size_t c = 0; c < eval[i].choices.size(); ++c) {
            p[i].choices.loglik.push_back(int(c) == major ? 0.0 : -1.0);
            p[i].choices.cont_bytes.push_back(1);
        }
    }
    if (task.kind == task_kind::regression) return 0.0;  // a constant has no correlation
    return headline(task, task_metrics(task, eval, p));
}

}  // namespace wtasim
