// Predictions from outputs (tasks/predict.hpp).
#include "tasks/predict.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/progress.hpp"
#include "tasks/detail.hpp"

namespace wtasim {
using namespace task_detail;

task_prediction decode_outputs(const task_data& task, const task_example& e, const encoded_example& enc,
                               const std::vector<std::vector<float>>& outputs, std::size_t vocab) {
    task_prediction p;
    const std::size_t C = task.kind == task_kind::regression ? 1 : task.labels.size();
    switch (task.kind) {
        case task_kind::classification:
        case task_kind::pair_classification:
            p.label = static_cast<int>(argmax(outputs.at(0).data(), C));
            break;
        case task_kind::regression:
            p.value = outputs.at(0).at(0);
            break;
        case task_kind::tagging: {
            p.tags.assign(e.words.size(), -1);
            for (std::size_t i = 0; i < enc.token_word.size(); ++i)
                if (enc.token_word[i] >= 0)
                    p.tags[static_cast<std::size_t>(enc.token_word[i])] =
                        static_cast<int>(argmax(outputs.at(0).data() + i * C, C));
            break;
        }
        case task_kind::span_qa: {
            // the best start + end over every window (start <= end, at most 30 pieces apart)
            float best = -std::numeric_limits<float>::infinity();
            int bw = -1;
            std::size_t bs = 0, be = 0;
            const std::size_t max_answer = 30;
            for (std::size_t w = 0; w < enc.window_word.size(); ++w) {
                const float* out = outputs.at(w).data();
                const std::vector<int>& tw = enc.window_word[w];
                for (std::size_t s = 0; s < tw.size(); ++s) {
                    if (tw[s] < 0) continue;
                    for (std::size_t t = s; t < tw.size() && t < s + max_answer; ++t) {
                        if (tw[t] < 0) continue;
                        const float v = out[s * 2] + out[t * 2 + 1];
                        if (bw < 0 || v > best) best = v, bs = s, be = t, bw = static_cast<int>(w);
                    }
                }
            }
            if (bw >= 0) {
                const std::vector<int>& tw = enc.window_word[static_cast<std::size_t>(bw)];
                const std::size_t b = enc.word_begin[static_cast<std::size_t>(tw[bs])];
                const std::size_t f = enc.word_end[static_cast<std::size_t>(tw[be])];
                p.answer = e.text_b.substr(b, f - b);
            }
            break;
        }
        case task_kind::multiple_choice: {
            for (std::size_t c = 0; c < enc.sequences.size(); ++c)
                p.choices.loglik.push_back(
                    continuation_loglik(outputs.at(c).data(), enc.sequences[c], enc.cont_start[c], vocab));
            p.choices.cont_bytes = enc.cont_bytes;
            p.label = choose_acc(p.choices);
            break;
        }
    }
    return p;
}

std::vector<std::vector<std::vector<float>>> forward_outputs(language_model& m, const task_data& task,
                                                             const std::vector<encoded_example>& examples,
                                                             std::size_t batch) {
    std::vector<std::vector<std::vector<float>>> out(examples.size());
    const bool lm = task.kind == task_kind::multiple_choice;
    const std::size_t C = lm ? m.config().vocab : m.config().task_outputs;
    progress shown("score " + task.name + " (trainer forward)", examples.size(), "examples");
    for (std::size_t first = 0; first < examples.size(); first += batch) {
        const std::size_t last = std::min(examples.size(), first + batch);
        std::vector<const ids*> seqs;
        for (std::size_t i = first; i < last; ++i)
            for (const auto& s : examples[i].sequences) seqs.push_back(&s);
        const padded p = pad(seqs);
        const bool token_rows = lm || m.config().task_readout == "token";
        std::vector<float> o((token_rows ? p.B * p.N : p.B) * C);
        if (lm)
            m.forward(o.data(), p.tokens.data(), p.B, p.N, p.mask, false);
        else
            m.forward_task(o.data(), p.tokens.data(), p.B, p.N, p.mask, false);
        std::size_t row = 0;
        for (std::size_t i = first; i < last; ++i)
            for (const auto& s : examples[i].sequences) {
                const std::size_t len = token_rows ? s.size() : 1, stride = token_rows ? p.N : 1;
                out[i].emplace_back(o.begin() + std::ptrdiff_t(row * stride * C),
                                    o.begin() + std::ptrdiff_t((row * stride + len) * C));
                ++row;
            }
        shown.add(last - first);
    }
    return out;
}

std::vector<task_prediction> decode_all(const task_data& task, const std::vector<task_example>& eval,
                                        const std::vector<encoded_example>& enc,
                                        const std::vector<std::vector<std::vector<float>>>& outs, std::size_t V) {
    std::vector<task_prediction> p;
    for (std::size_t i = 0; i < eval.size(); ++i) p.push_back(decode_outputs(task, eval[i], enc[i], outs[i], V));
    return p;
}

bool same_prediction(const task_prediction& a, const task_prediction& b) {
    return a.label == b.label && a.tags == b.tags && a.answer == b.answer &&
           (a.choices.loglik.empty() || choose_acc_norm(a.choices) == choose_acc_norm(b.choices));
}

nlohmann::json prediction_json(const task_data& task, const task_example& e, const task_prediction& q) {
    nlohmann::json j = {{"id", e.id}};
    if (!e.index.empty()) j["index"] = e.index;
    const bool classes = task.kind == task_kind::classification || task.kind == task_kind::pair_classification;
    if (classes && !task.file_labels.empty()) j["label"] = task.file_labels.at(std::size_t(q.label));
    if (task.kind == task_kind::multiple_choice && !e.choice_labels.empty())
        j["answer"] = e.choice_labels.at(std::size_t(choose_acc(q.choices)));
    switch (task.kind) {
        case task_kind::regression:
            j["prediction"] = q.value;
            break;
        case task_kind::span_qa:
            j["prediction"] = q.answer;
            break;
        case task_kind::tagging: {
            nlohmann::json tags = nlohmann::json::array();
            for (int t : q.tags) tags.push_back(t >= 0 ? task.labels[std::size_t(t)] : "");
            j["prediction"] = tags;
            break;
        }
        case task_kind::multiple_choice:
            j["prediction"] = choose_acc(q.choices);
            j["prediction_norm"] = choose_acc_norm(q.choices);
            j["loglik"] = q.choices.loglik;
            break;
        default:
            j["prediction"] = task.labels.at(std::size_t(q.label));
    }
    return j;
}

std::string predictions_jsonl(const task_data& task, const std::vector<task_prediction>& predicted) {
    std::string lines;
    for (std::size_t i = 0; i < task.test.size(); ++i)
        lines += prediction_json(task, task.test[i], predicted[i]).dump() + "\n";
    return lines;
}

std::vector<std::pair<std::string, std::string>> submission_files(const task_data& task,
                                                                  const std::vector<task_prediction>& predicted,
                                                                  const std::string& eval_file) {
    static const std::vector<std::pair<std::string, std::string>> glue = {
        {"cola", "CoLA"},  {"sst2", "SST-2"},  {"mrpc", "MRPC"}, {"qqp", "QQP"},
        {"stsb", "STS-B"}, {"mnli", "MNLI-m"}, {"qnli", "QNLI"}, {"rte", "RTE"}};
    const auto index = [&](std::size_t i) {
        return task.test[i].index.empty() ? std::to_string(i) : task.test[i].index;
    };
    for (const auto& [name, file] : glue) {
        if (task.name != name) continue;
        std::string out = "index\tprediction\n";
        for (std::size_t i = 0; i < task.test.size(); ++i) {
            std::string value;
            if (task.kind == task_kind::regression) {
                char b[32];
                std::snprintf(b, sizeof b, "%.6g", std::clamp(predicted[i].value, 0.0, 5.0));
                value = b;
            } else {
                value = task.file_labels.at(std::size_t(predicted[i].label));
            }
            out += index(i) + "\t" + value + "\n";
        }
        const bool mismatched = name == "mnli" && eval_file.find("mismatched") != std::string::npos;
        return {{(mismatched ? std::string("MNLI-mm") : file) + ".tsv", out}};
    }
    if (task.name == "boolq") {
        std::string out;
        for (std::size_t i = 0; i < task.test.size(); ++i)
            out += nlohmann::json{{"idx", std::stoull(index(i))},
                                  {"label", task.file_labels.at(std::size_t(predicted[i].label))}}
                       .dump() +
                   "\n";
        return {{"BoolQ.jsonl", out}};
    }
    return {};
}

}  // namespace wtasim
