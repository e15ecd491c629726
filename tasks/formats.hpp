// Downstream task data (docs/model.md §4 readouts, §5 fine-tuning losses): one example type for every task kind,
// and the readers of the standard public formats users bring (GLUE TSV, SuperGLUE BoolQ, lm-eval style
// multiple-choice JSONL, SQuAD v1.1 JSON). The built-in real-data tasks (tasks/suite.hpp) produce the
// same types, so heads, fine-tuning, metrics and the simulator never know where an example came from.
// A malformed row is a config_error naming the file, the line (1-based) and the field:
//   "dev.tsv: line 7, field 'label' = \"maybe\", expected one of 0, 1"
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace wtasim {

enum class task_kind {
    classification,       // one text -> one of labels            (sequence readout, cross-entropy)
    pair_classification,  // two texts -> one of labels            (sequence readout over "a </s> b")
    regression,           // one or two texts -> a real number     (sequence readout, MSE)
    tagging,              // words -> one label per word           (per-token readout of each word's first piece)
    span_qa,              // question + context -> answer span     (per-token start / end logits)
    multiple_choice,      // context -> which continuation         (LM log-likelihood: acc and acc_norm)
};
const char* task_kind_name(task_kind k);

struct task_example {
    std::string id;                  // stable: "<file>:<line>" for user files, a document id for built-in tasks
    std::string index;               // the benchmark's own id, for submissions: GLUE's index column, BoolQ's idx,
                                     // ARC / OpenBookQA's id (empty: the file has none)
    std::string text_a, text_b;      // classification / pair / regression (text_b empty for one text);
                                     // span_qa: text_a = question, text_b = context
    int label = -1;                  // class index, gold choice index; -1 = no label (GLUE test files)
    double target = 0.0;             // regression target
    std::vector<std::string> words;  // tagging: the words
    std::vector<int> tags;           // tagging: one label index per word (empty: unlabelled)
    // span_qa: every gold answer text and its character offset in text_b (SQuAD keeps all of them)
    std::vector<std::string> answers;
    std::vector<std::size_t> answer_starts;
    // multiple_choice: the context of each choice (one shared context, or one per choice as WinoGrande needs)
    // and each choice's continuation, scored as log P(continuation | context).
    std::vector<std::string> contexts;
    std::vector<std::string> choices;
    std::vector<std::string> choice_labels;  // each choice's own label where the file has them (ARC: "A".."E")
};

struct task_data {
    std::string name;  // "sst2", "brown-genre", ...
    task_kind kind = task_kind::classification;
    std::string metric;               // the task's headline metric: "accuracy", "mcc", "f1", "pearson", ...
    std::vector<std::string> labels;  // class / tag names (index = label)
    // the labels as the benchmark's files and submissions write them (GLUE SST-2: "0", "1"; MNLI:
    // "entailment", ...; BoolQ: "false", "true"); empty: the names above
    std::vector<std::string> file_labels;
    std::vector<task_example> train, valid, test;
};

// ---- standard formats -------------------------------------------------------------------------------
// GLUE TSV (the files of the GLUE distribution: tab-separated, no quoting, a header line except CoLA's
// train/dev): task = "cola" | "sst2" | "mrpc" | "qqp" | "stsb" | "mnli" | "qnli" | "rte". Columns are found
// by header name where the file has a header. Labels map to the task's fixed label list (glue_labels);
// test files without labels give label -1. MNLI's dev_matched / dev_mismatched use the same reader.
std::vector<task_example> read_glue_tsv(const std::string& task, const std::string& file);
// The task's kind, headline metric and label names, e.g. glue_task("mnli") -> pair, accuracy,
// {"contradiction", "entailment", "neutral"}; throws config_error for an unknown task name.
task_data glue_task(const std::string& task);

// SuperGLUE BoolQ JSONL: {"question", "passage", "label": true|false} (also the original "answer" key);
// pair classification, labels {"False", "True"}.
std::vector<task_example> read_boolq_jsonl(const std::string& file);

// Multiple-choice JSONL as commonly exported, format = "arc" | "openbookqa" | "piqa" | "hellaswag" |
// "winogrande". Both the original AI2 layout ({"question": {"stem", "choices": [{"text", "label"}]},
// "answerKey"}) and the Hugging Face export ({"question" | "question_stem", "choices": {"text": [], "label": []},
// "answerKey"}) load for ARC / OpenBookQA; PIQA {"goal", "sol1", "sol2", "label"}; HellaSwag {"ctx" (or
// "ctx_a" + "ctx_b"), "endings", "label"}; WinoGrande {"sentence" with one "_", "option1", "option2",
// "answer": "1" | "2"} split as lm-eval-harness does (context = the sentence up to the blank with the
// option filled in, continuation = the rest, the same for both choices).
std::vector<task_example> read_multiple_choice_jsonl(const std::string& format, const std::string& file);

// SQuAD v1.1 JSON ({"data": [{"paragraphs": [{"context", "qas": [{"id", "question", "answers": [{"text",
// "answer_start"}]}]}]}]}); errors name the JSON pointer of the bad field.
std::vector<task_example> read_squad_json(const std::string& file);

}  // namespace wtasim
