// Readers of the standard task formats (tasks/formats.hpp): GLUE TSV, BoolQ JSONL, lm-eval style
// multiple-choice JSONL (ARC, OpenBookQA, PIQA, HellaSwag, WinoGrande) and SQuAD v1.1 JSON.
// Invariants: every example's id is "<file name>:<line>" (SQuAD: the question id); a malformed row is a
// config_error naming the file, the 1-based line and the field (SQuAD: the JSON pointer); a UTF-8 byte
// order mark, Windows line endings and blank lines at the end of a file are accepted. Refused, with file, line
// and field: invalid UTF-8, NUL bytes, lines longer than max_line_bytes, empty texts, an STS-B score outside
// 0-5, a multiple-choice row with fewer than two choices, duplicate keys in a JSON row. SQuAD's answer_start
// counts Unicode code points (Python's str indexing); answer_starts holds the byte offset in text_b, so
// text_b.substr(answer_starts[i], answers[i].size()) == answers[i] always holds.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "core/utf8.hpp"
#include "tasks/formats.hpp"

namespace wtasim {
namespace {
using json = nlohmann::json;

// GLUE: where each task's texts and label are, and how its label column is spelled in the files.
struct glue_spec {
    const char* name;
    task_kind kind;
    const char* metric;
    std::vector<std::string> labels;  // class names (index = label)
    std::vector<std::string> values;  // the label column's text for each class (empty: regression)
    const char* column_a;
    const char* column_b;  // "" for one text
    const char* column_label;
};

const std::vector<glue_spec>& glue_specs() {
    using k = task_kind;
    // clang-format off
    static const std::vector<glue_spec> specs = {
        {"cola", k::classification, "mcc", {"unacceptable", "acceptable"}, {"0", "1"}, "sentence", "", "label"},
        {"sst2", k::classification, "accuracy", {"negative", "positive"}, {"0", "1"}, "sentence", "", "label"},
        {"mrpc", k::pair_classification, "f1", {"not_equivalent", "equivalent"}, {"0", "1"},
         "#1 String", "#2 String", "Quality"},
        {"qqp", k::pair_classification, "f1", {"not_duplicate", "duplicate"}, {"0", "1"},
         "question1", "question2", "is_duplicate"},
        {"stsb", k::regression, "pearson", {}, {}, "sentence1", "sentence2", "score"},
        {"mnli", k::pair_classification, "accuracy", {"contradiction", "entailment", "neutral"},
         {"contradiction", "entailment", "neutral"}, "sentence1", "sentence2", "gold_label"},
        {"qnli", k::pair_classification, "accuracy", {"entailment", "not_entailment"},
         {"entailment", "not_entailment"}, "question", "sentence", "label"},
        {"rte", k::pair_classification, "accuracy", {"entailment", "not_entailment"},
         {"entailment", "not_entailment"}, "sentence1", "sentence2", "label"},
    };
    // clang-format on
    return specs;
}

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
    return out;
}

const glue_spec& find_glue(const std::string& task) {
    std::vector<std::string> names;
    for (const auto& s : glue_specs()) {
        if (task == s.name) return s;
        names.emplace_back(s.name);
    }
    throw config_error("GLUE task \"" + task + "\" is unknown, expected one of " + join(names));
}

// A string as JSON writes it (quoted, escaped; invalid UTF-8 replaced rather than thrown on), cut to a
// readable length.
std::string json_text(const json& v) {
    std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
    if (s.size() > 160) s = s.substr(0, 150) + "...(" + std::to_string(s.size()) + " bytes)";
    return s;
}

// Limits of the line-based formats (a whole file is bounded by the file size; a line by this).
constexpr std::size_t max_line_bytes = std::size_t{1} << 20;
constexpr std::size_t max_file_bytes = std::size_t{1} << 30;

std::string file_name(const std::string& path) {
    return std::filesystem::path(path).filename().string();
}

// The file's lines without "\n" / "\r\n", a leading byte order mark and trailing blank lines.
std::vector<std::string> read_lines(const std::string& path, const char* what) {
    std::string text = json_reader::read_file(path, what, max_file_bytes);
    if (text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);
    std::vector<std::string> lines;
    for (std::size_t begin = 0; begin < text.size();) {
        std::size_t end = text.find('\n', begin);
        if (end == std::string::npos) end = text.size();
        const std::string where = path + ": line " + std::to_string(lines.size() + 1);
        if (end - begin > max_line_bytes)
            throw config_error(where + ": " + std::to_string(end - begin) + " bytes, longer than the limit of " +
                               std::to_string(max_line_bytes >> 20) + " MiB for one line");
        std::string line = text.substr(begin, end - begin);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        require_utf8(line, where);
        lines.push_back(std::move(line));
        begin = end + 1;
    }
    while (!lines.empty() && lines.back().find_first_not_of(" \t") == std::string::npos) lines.pop_back();
    return lines;
}

std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> fields;
    std::size_t begin = 0;
    for (std::size_t tab; (tab = line.find('\t', begin)) != std::string::npos; begin = tab + 1)
        fields.push_back(line.substr(begin, tab - begin));
    fields.push_back(line.substr(begin));
    return fields;
}

std::string at_line(const std::string& file, std::size_t line) {
    return file + ": line " + std::to_string(line);
}

[[noreturn]] void bad_field(const std::string& file, std::size_t line, const std::string& field,
                            const std::string& value_text, const std::string& expected) {
    throw config_error(at_line(file, line) + ", field '" + field + "' = " + value_text + ", " + expected);
}

void require_examples(const std::vector<task_example>& out, const std::string& file) {
    if (out.empty()) throw config_error(file + ": no examples");
}

// ---- JSONL ------------------------------------------------------------------------------------------
// One JSON object per line; fields are named by their path in the object ("question.stem").
class jsonl_row {
public:
    jsonl_row(const json& value, const std::string& file, std::size_t line) : v_(value), file_(file), line_(line) {}

    const json* find(const json& obj, const std::string& key) const {
        const auto it = obj.find(key);
        return it == obj.end() ? nullptr : &*it;
    }
    const json* find(const std::string& key) const { return find(v_, key); }
    const json& at(const json& obj, const std::string& key, const std::string& field) const {
        const json* v = find(obj, key);
        if (!v) throw config_error(at_line(file_, line_) + ", field '" + field + "' is missing");
        return *v;
    }
    const json& at(const std::string& key) const { return at(v_, key, key); }
    std::string text(const json& v, const std::string& field) const {
        std::string s = text_or_empty(v, field);
        if (s.find_first_not_of(" \t\r\n") == std::string::npos) fail(field, v, "expected a non-empty text");
        return s;
    }
    std::string text_or_empty(const json& v, const std::string& field) const {
        if (!v.is_string()) fail(field, v, "expected a string");
        std::string s = v.get<std::string>();
        if (s.find('\0') != std::string::npos) fail(field, v, "contains a NUL byte");
        return s;
    }
    std::string text(const std::string& key) const { return text(at(key), key); }
    std::vector<std::string> texts(const json& v, const std::string& field) const {
        if (!v.is_array() || v.empty()) fail(field, v, "expected a non-empty array of strings");
        std::vector<std::string> out;
        for (std::size_t i = 0; i < v.size(); ++i) out.push_back(text(v[i], field + "[" + std::to_string(i) + "]"));
        return out;
    }
    [[noreturn]] void fail(const std::string& field, const json& value, const std::string& expected) const {
        bad_field(file_, line_, field, json_text(value), expected);
    }
    const json& value() const { return v_; }

private:
    const json& v_;
    const std::string& file_;
    std::size_t line_;
};

template <class F>
std::vector<task_example> read_jsonl(const std::string& file, const char* what, F&& parse_row) {
    const auto lines = read_lines(file, what);
    const std::string name = file_name(file);
    std::vector<task_example> out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        // JSON ignores whitespace, so a blank line inside a JSONL file is skipped like a trailing one.
        if (lines[i].find_first_not_of(" \t") == std::string::npos) continue;
        json value;
        try {
            value = json::parse(lines[i]);
        } catch (const json::parse_error& e) {
            const std::string msg = e.what();
            const std::size_t column = msg.find("column ");
            throw config_error(at_line(file, i + 1) + ": not valid JSON (" +
                               (column == std::string::npos ? msg : msg.substr(column)) + ")");
        } catch (const json::exception& e) {  // a number beyond a double ("1e400")
            throw config_error(at_line(file, i + 1) + ": not usable JSON (" + json_reader::reason(e) + ")");
        }
        json_reader::parse(lines[i], at_line(file, i + 1));  // duplicate keys, nesting depth
        if (!value.is_object())
            throw config_error(at_line(file, i + 1) + ": " + json_text(value) + ", expected a JSON object");
        task_example ex;
        ex.id = name + ":" + std::to_string(i + 1);
        parse_row(jsonl_row(value, file, i + 1), ex);
        out.push_back(std::move(ex));
    }
    require_examples(out, file);
    return out;
}

// An integer label 0 .. n-1 given as a number or a string of digits ("3" in the Hugging Face exports);
// absent, null or "" is an unlabelled (test) example.
int index_label(const jsonl_row& row, const std::string& key, std::size_t n, int first = 0) {
    const json* v = row.find(key);
    if (!v || v->is_null() || (v->is_string() && v->get<std::string>().empty())) return -1;
    long long k = -1;
    if (v->is_number_integer()) {
        k = v->get<long long>();
    } else if (v->is_string()) {
        const std::string s = v->get<std::string>();
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), k);
        if (ec != std::errc{} || end != s.data() + s.size()) k = -1;
    }
    if (k < first || k >= first + static_cast<long long>(n)) {
        std::vector<std::string> allowed;
        for (std::size_t i = 0; i < n; ++i) allowed.push_back(std::to_string(first + static_cast<int>(i)));
        row.fail(key, *v, "expected one of " + join(allowed));
    }
    return static_cast<int>(k - first);
}

std::string trim(const std::string& s) {
    const std::size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// ARC / OpenBookQA, in the AI2 layout ({"question": {"stem", "choices": [{"text", "label"}]}}) or the
// Hugging Face export ({"question" | "question_stem", "choices": {"text": [], "label": []}}). The gold
// index is the position of answerKey in the choices' own labels (A-E, or 1-5 in some ARC questions).
void parse_ai2(const jsonl_row& row, task_example& ex, bool openbookqa) {
    std::string stem;
    std::vector<std::string> texts, labels;
    const json* question = row.find("question");
    if (question && question->is_object()) {
        stem = row.text(row.at(*question, "stem", "question.stem"), "question.stem");
        const json& choices = row.at(*question, "choices", "question.choices");
        if (!choices.is_array() || choices.empty())
            row.fail("question.choices", choices, "expected a non-empty array of {\"text\", \"label\"}");
        for (std::size_t i = 0; i < choices.size(); ++i) {
            const std::string field = "question.choices[" + std::to_string(i) + "]";
            if (!choices[i].is_object()) row.fail(field, choices[i], "expected {\"text\", \"label\"}");
            texts.push_back(row.text(row.at(choices[i], "text", field + ".text"), field + ".text"));
            labels.push_back(row.text(row.at(choices[i], "label", field + ".label"), field + ".label"));
        }
    } else {
        const char* key = question ? "question" : "question_stem";
        stem = row.text(key);
        const json& choices = row.at("choices");
        if (!choices.is_object()) row.fail("choices", choices, "expected {\"text\": [...], \"label\": [...]}");
        texts = row.texts(row.at(choices, "text", "choices.text"), "choices.text");
        labels = row.texts(row.at(choices, "label", "choices.label"), "choices.label");
        if (labels.size() != texts.size())
            row.fail("choices.label", choices["label"],
                     "expected " + std::to_string(texts.size()) + " labels, one per choice text");
    }
    // lm-eval-harness: ARC asks "Question: ...\nAnswer:", OpenBookQA gives the bare stem (a sentence that the
    // answer completes); choices are " <text>".
    if (texts.size() < 2)
        row.fail(question && question->is_object() ? "question.choices" : "choices.text",
                 question && question->is_object() ? row.at(*question, "choices", "question.choices")
                                                   : row.at(row.at("choices"), "text", "choices.text"),
                 "expected at least two choices");
    ex.contexts = {openbookqa ? stem : "Question: " + stem + "\nAnswer:"};
    for (const auto& t : texts) ex.choices.push_back(" " + t);
    ex.choice_labels = labels;
    if (const json* id = row.find("id"); id && id->is_string()) ex.index = id->get<std::string>();
    const json* key = row.find("answerKey");
    if (!key || key->is_null() || (key->is_string() && key->get<std::string>().empty())) return;
    const std::string answer = trim(row.text(*key, "answerKey"));
    const auto it = std::find(labels.begin(), labels.end(), answer);
    if (it == labels.end()) row.fail("answerKey", *key, "expected one of " + join(labels));
    ex.label = static_cast<int>(it - labels.begin());
}

void parse_piqa(const jsonl_row& row, task_example& ex) {
    ex.contexts = {"Question: " + row.text("goal") + "\nAnswer:"};
    ex.choices = {" " + row.text("sol1"), " " + row.text("sol2")};
    ex.label = index_label(row, "label", 2);
}

// HellaSwag: the context is "ctx" (the original and the Hugging Face export both carry it), else
// ctx_a + " " + ctx_b; lm-eval's activity-label prefix and "[title]" clean-up are not applied.
void parse_hellaswag(const jsonl_row& row, task_example& ex) {
    if (row.find("ctx")) {
        ex.contexts = {row.text("ctx")};
    } else {
        const std::string b = row.text_or_empty(row.at("ctx_b"), "ctx_b");
        ex.contexts = {row.text("ctx_a") + (b.empty() ? "" : " " + b)};
    }
    for (const auto& e : row.texts(row.at("endings"), "endings")) ex.choices.push_back(" " + e);
    if (ex.choices.size() < 2) row.fail("endings", row.at("endings"), "expected at least two endings");
    ex.label = index_label(row, "label", ex.choices.size());
}

// WinoGrande, scored as lm-eval-harness does (partial evaluation): for option i the context is the sentence
// up to the first "_" with the option filled in; the continuation, the same for both, is the rest.
void parse_winogrande(const jsonl_row& row, task_example& ex) {
    const std::string sentence = row.text("sentence");
    const std::size_t blank = sentence.find('_');
    if (blank == std::string::npos) row.fail("sentence", row.at("sentence"), "expected a \"_\" to fill in");
    const std::string before = sentence.substr(0, blank);
    const std::string rest = " " + trim(sentence.substr(blank + 1));
    ex.contexts = {before + row.text("option1"), before + row.text("option2")};
    ex.choices = {rest, rest};
    ex.label = index_label(row, "answer", 2, 1);
}

// ---- SQuAD ------------------------------------------------------------------------------------------
// The byte offset of code point `cp` in UTF-8 `s`; npos when s has fewer code points.
std::size_t byte_offset(const std::string& s, std::size_t cp) {
    std::size_t seen = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;  // continuation byte
        if (seen++ == cp) return i;
    }
    return seen == cp ? s.size() : std::string::npos;
}

struct squad_reader {
    const std::string& file;
    [[noreturn]] void fail(const std::string& pointer, const json& v, const std::string& expected) const {
        throw config_error(file + ": " + pointer + " = " + json_text(v) + ", " + expected);
    }
    const json& at(const json& obj, const std::string& pointer, const std::string& key) const {
        const auto it = obj.find(key);
        if (it == obj.end()) throw config_error(file + ": " + pointer + "/" + key + " is missing");
        return *it;
    }
    const json& array(const json& obj, const std::string& pointer, const std::string& key) const {
        const json& v = at(obj, pointer, key);
        if (!v.is_array()) fail(pointer + "/" + key, v, "expected an array");
        return v;
    }
    std::string text(const json& obj, const std::string& pointer, const std::string& key) const {
        const json& v = at(obj, pointer, key);
        if (!v.is_string()) fail(pointer + "/" + key, v, "expected a string");
        return v.get<std::string>();
    }
    void object(const json& v, const std::string& pointer) const {
        if (!v.is_object()) fail(pointer, v, "expected an object");
    }
};
}  // namespace

const char* task_kind_name(task_kind k) {
    switch (k) {
        case task_kind::classification:
            return "classification";
        case task_kind::pair_classification:
            return "pair_classification";
        case task_kind::regression:
            return "regression";
        case task_kind::tagging:
            return "tagging";
        case task_kind::span_qa:
            return "span_qa";
        case task_kind::multiple_choice:
            return "multiple_choice";
    }
    return "unknown";
}

task_data glue_task(const std::string& task) {
    const glue_spec& s = find_glue(task);
    task_data t;
    t.name = s.name;
    t.kind = s.kind;
    t.metric = s.metric;
    t.labels = s.labels;
    t.file_labels = s.values;
    return t;
}

std::vector<task_example> read_glue_tsv(const std::string& task, const std::string& file) {
    const glue_spec& spec = find_glue(task);
    const auto lines = read_lines(file, "GLUE TSV file");
    if (lines.empty()) throw config_error(file + ": empty, expected a GLUE " + task + " TSV file");
    // CoLA's train / dev files have no header; its test file starts "index\tsentence".
    const bool headerless = task == "cola" && !lines[0].starts_with("index\t");
    const std::vector<std::string> header =
        headerless ? std::vector<std::string>{"source", "label", "original-label", "sentence"} : split_tabs(lines[0]);
    const auto column = [&](const std::string& name, bool required) {
        const auto it = std::find(header.begin(), header.end(), name);
        if (it == header.end() && required)
            throw config_error(at_line(file, 1) + ", column '" + name + "' is missing from the header (" +
                               join(header) + ")");
        return it == header.end() ? std::string::npos : static_cast<std::size_t>(it - header.begin());
    };
    const std::size_t col_a = column(spec.column_a, true);
    const std::size_t col_b = *spec.column_b ? column(spec.column_b, true) : std::string::npos;
    const std::size_t col_label = column(spec.column_label, false);  // absent in test files
    const std::size_t col_index = column("index", false);            // test files (and most dev files) have it

    const std::string name = file_name(file);
    std::vector<task_example> out;
    for (std::size_t i = headerless ? 0 : 1; i < lines.size(); ++i) {
        const std::size_t line = i + 1;
        const auto fields = split_tabs(lines[i]);
        if (fields.size() != header.size())
            throw config_error(at_line(file, line) + ": " + std::to_string(fields.size()) + " columns, expected " +
                               std::to_string(header.size()) + " (" + join(header) + ")");
        task_example ex;
        ex.id = name + ":" + std::to_string(line);
        ex.text_a = fields[col_a];
        if (col_b != std::string::npos) ex.text_b = fields[col_b];
        if (col_index != std::string::npos) ex.index = fields[col_index];
        if (ex.text_a.find_first_not_of(" \t") == std::string::npos)
            bad_field(file, line, spec.column_a, json_text(ex.text_a), "expected a non-empty text");
        if (col_b != std::string::npos && ex.text_b.find_first_not_of(" \t") == std::string::npos)
            bad_field(file, line, spec.column_b, json_text(ex.text_b), "expected a non-empty text");
        if (lines[i].find('\0') != std::string::npos) throw config_error(at_line(file, line) + ": contains a NUL byte");
        if (col_label != std::string::npos) {
            const std::string& value = fields[col_label];
            if (spec.kind == task_kind::regression) {
                double v = 0.0;
                const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
                if (ec != std::errc{} || end != value.data() + value.size() || !std::isfinite(v))
                    bad_field(file, line, spec.column_label, json_text(value), "expected a number");
                if (task == "stsb" && !(v >= 0.0 && v <= 5.0))
                    bad_field(file, line, spec.column_label, json_text(value),
                              "expected a similarity score from 0 to 5 (STS-B)");
                ex.target = v;
            } else {
                // MNLI marks pairs whose annotators reached no consensus with gold_label "-". GLUE dropped them
                // from its dev files; we drop them from every file, since they have no class.
                if (task == "mnli" && value == "-") continue;
                const auto it = std::find(spec.values.begin(), spec.values.end(), value);
                if (it == spec.values.end())
                    bad_field(file, line, spec.column_label, json_text(value), "expected one of " + join(spec.values));
                ex.label = static_cast<int>(it - spec.values.begin());
            }
        }
        out.push_back(std::move(ex));
    }
    require_examples(out, file);
    return out;
}

std::vector<task_example> read_boolq_jsonl(const std::string& file) {
    return read_jsonl(file, "BoolQ JSONL file", [](const jsonl_row& row, task_example& ex) {
        ex.text_a = row.text("question");
        ex.text_b = row.text("passage");
        if (const json* idx = row.find("idx")) {  // SuperGLUE's files number their examples
            if (!idx->is_number_unsigned()) row.fail("idx", *idx, "expected a whole number >= 0");
            ex.index = std::to_string(idx->get<std::uint64_t>());
        }
        // SuperGLUE: "label"; the original release: "answer"; the SuperGLUE test file has neither.
        const char* key = row.find("label") ? "label" : row.find("answer") ? "answer" : nullptr;
        if (!key) return;
        const json& v = row.at(key);
        if (!v.is_boolean()) row.fail(key, v, "expected true or false");
        ex.label = v.get<bool>() ? 1 : 0;
    });
}

std::vector<task_example> read_multiple_choice_jsonl(const std::string& format, const std::string& file) {
    const char* what = "multiple-choice JSONL file";
    if (format == "arc" || format == "openbookqa") {
        const bool obqa = format == "openbookqa";
        return read_jsonl(file, what, [obqa](const jsonl_row& row, task_example& ex) { parse_ai2(row, ex, obqa); });
    }
    if (format == "piqa") return read_jsonl(file, what, parse_piqa);
    if (format == "hellaswag") return read_jsonl(file, what, parse_hellaswag);
    if (format == "winogrande") return read_jsonl(file, what, parse_winogrande);
    throw config_error(file + ": multiple-choice format \"" + format +
                       "\" is unknown, expected one of arc, openbookqa, piqa, hellaswag, winogrande");
}

std::vector<task_example> read_squad_json(const std::string& file) {
    const std::string text = json_reader::read_file(file, "SQuAD JSON file", max_file_bytes);
    json root;
    try {
        root = json::parse(text);
    } catch (const json::parse_error& e) {
        const std::string msg = e.what();
        const std::size_t at = msg.find("line ");
        throw config_error(file + ": not valid JSON (" + (at == std::string::npos ? msg : msg.substr(at)) + ")");
    } catch (const json::exception& e) {  // a number beyond a double ("1e400")
        throw config_error(file + ": not usable JSON (" + json_reader::reason(e) + ")");
    }
    json_reader::parse(text, file, max_file_bytes);  // duplicate keys, nesting depth
    const squad_reader r{file};
    r.object(root, "/");
    const json& data = r.array(root, "", "data");
    std::vector<task_example> out;
    for (std::size_t d = 0; d < data.size(); ++d) {
        const std::string pd = "/data/" + std::to_string(d);
        r.object(data[d], pd);
        const json& paragraphs = r.array(data[d], pd, "paragraphs");
        for (std::size_t p = 0; p < paragraphs.size(); ++p) {
            const std::string pp = pd + "/paragraphs/" + std::to_string(p);
            r.object(paragraphs[p], pp);
            const std::string context = r.text(paragraphs[p], pp, "context");
            const json& qas = r.array(paragraphs[p], pp, "qas");
            for (std::size_t q = 0; q < qas.size(); ++q) {
                const std::string pq = pp + "/qas/" + std::to_string(q);
                r.object(qas[q], pq);
                task_example ex;
                ex.id = r.text(qas[q], pq, "id");
                ex.text_a = r.text(qas[q], pq, "question");
                ex.text_b = context;
                const json& answers = r.array(qas[q], pq, "answers");
                if (answers.empty()) r.fail(pq + "/answers", answers, "expected at least one answer (SQuAD v1.1)");
                for (std::size_t a = 0; a < answers.size(); ++a) {
                    const std::string pa = pq + "/answers/" + std::to_string(a);
                    r.object(answers[a], pa);
                    const std::string answer = r.text(answers[a], pa, "text");
                    const json& start = r.at(answers[a], pa, "answer_start");
                    if (!start.is_number_unsigned()) r.fail(pa + "/answer_start", start, "expected an integer >= 0");
                    const std::size_t begin = byte_offset(context, start.get<std::size_t>());
                    if (begin == std::string::npos || context.compare(begin, answer.size(), answer) != 0)
                        r.fail(pa + "/answer_start", start, "the answer text is not at that offset");
                    ex.answers.push_back(answer);
                    ex.answer_starts.push_back(begin);
                }
                out.push_back(std::move(ex));
            }
        }
    }
    require_examples(out, file);
    return out;
}

}  // namespace wtasim
