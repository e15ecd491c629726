// Encoding task examples (tasks/encode.hpp).
#include "tasks/encode.hpp"

#include "core/error.hpp"
#include "tasks/detail.hpp"

namespace wtasim {
using namespace task_detail;

std::vector<std::string> words_of(const std::string& text) {
    std::vector<std::string> words;
    std::vector<std::size_t> begin, end;
    task_detail::split_words(text, words, begin, end);
    return words;
}

model_config task_model_config(const model_config& pretrained, const task_data& task) {
    model_config c = pretrained;
    c.task.clear();
    c.task_outputs = 0;
    c.task_readout = "sequence";
    if (task.kind == task_kind::multiple_choice) return c;
    c.task = task.name;
    c.task_kind = task_kind_name(task.kind);
    if (task.kind != task_kind::regression && task.kind != task_kind::span_qa) c.task_labels = task.labels;
    switch (task.kind) {
        case task_kind::regression:
            c.task_outputs = 1;
            break;
        case task_kind::span_qa:
            c.task_outputs = 2;
            c.task_readout = "token";
            break;
        case task_kind::tagging:
            c.task_outputs = task.labels.size();
            c.task_readout = "token";
            break;
        default:
            c.task_outputs = task.labels.size();
    }
    if (c.task_outputs == 0) throw config_error("task " + task.name + ": no labels");
    return c;
}

encoded_example encode_example(const task_data& task, const task_example& e, const tokenizer& tok,
                               std::size_t max_len) {
    encoded_example x;
    x.label = e.label;
    x.target = static_cast<float>(e.target);
    switch (task.kind) {
        case task_kind::classification:
        case task_kind::pair_classification:
        case task_kind::regression:
            x.sequences.push_back(encode_texts(tok, e.text_a, e.text_b, max_len));
            break;
        case task_kind::tagging: {
            ids seq{tokenizer::bos_id};
            x.token_tags.push_back(-1);
            x.token_word.push_back(-1);
            for (std::size_t w = 0; w < e.words.size(); ++w) {
                const ids pieces = tok.encode(e.words[w]);
                if (pieces.empty()) continue;
                if (seq.size() + pieces.size() > max_len) break;
                for (std::size_t p = 0; p < pieces.size(); ++p) {
                    seq.push_back(pieces[p]);
                    x.token_word.push_back(p == 0 ? static_cast<int>(w) : -1);
                    x.token_tags.push_back(p == 0 && w < e.tags.size() ? e.tags[w] : -1);
                }
            }
            x.sequences.push_back(std::move(seq));
            break;
        }
        case task_kind::span_qa: {
            // "<s> question </s>" then a window of context pieces; a context longer than one window is
            // covered by windows overlapping by half (every window is scored at evaluation)
            ids q = tok.encode(e.text_a);
            if (q.size() > max_len / 2) q.resize(max_len / 2);
            ids head{tokenizer::bos_id};
            append(head, q).push_back(tokenizer::eos_id);
            std::vector<std::string> words;
            split_words(e.text_b, words, x.word_begin, x.word_end);
            ids pieces;
            std::vector<int> piece_word;
            for (std::size_t w = 0; w < words.size(); ++w)
                for (auto id : tok.encode(words[w])) {
                    pieces.push_back(id);
                    piece_word.push_back(static_cast<int>(w));
                }
            const std::size_t room = max_len > head.size() ? max_len - head.size() : 0;
            if (room == 0)
                throw config_error("task: max_len = " + std::to_string(max_len) + " leaves no room for context");
            const std::size_t stride = std::max<std::size_t>(1, room / 2);
            // the gold answer (the first one) as a piece range
            long a_first = -1, a_last = -1;
            if (!e.answers.empty()) {
                const std::size_t a_begin = e.answer_starts.at(0), a_end = a_begin + e.answers[0].size();
                for (std::size_t i = 0; i < pieces.size(); ++i) {
                    const auto w = static_cast<std::size_t>(piece_word[i]);
                    if (x.word_end[w] > a_begin && x.word_begin[w] < a_end) {
                        if (a_first < 0) a_first = static_cast<long>(i);
                        a_last = static_cast<long>(i);
                    }
                }
            }
            for (std::size_t from = 0;; from += stride) {
                const std::size_t to = std::min(pieces.size(), from + room);
                ids seq = head;
                std::vector<int> tw(head.size(), -1);
                for (std::size_t i = from; i < to; ++i) {
                    seq.push_back(pieces[i]);
                    tw.push_back(piece_word[i]);
                }
                if (x.answer_window < 0 && a_first >= static_cast<long>(from) && a_last >= 0 &&
                    a_last < static_cast<long>(to)) {
                    x.answer_window = static_cast<int>(x.sequences.size());
                    x.start = static_cast<int>(head.size() + std::size_t(a_first) - from);
                    x.end = static_cast<int>(head.size() + std::size_t(a_last) - from);
                }
                x.sequences.push_back(std::move(seq));
                x.window_word.push_back(std::move(tw));
                if (to >= pieces.size()) break;
            }
            x.token_word = x.window_word[static_cast<std::size_t>(std::max(0, x.answer_window))];
            break;
        }
        case task_kind::multiple_choice: {
            for (std::size_t c = 0; c < e.choices.size(); ++c) {
                ids ctx = tok.encode(e.contexts.size() == 1 ? e.contexts[0] : e.contexts.at(c));
                ids cont = tok.encode(e.choices[c]);
                if (cont.size() + 2 > max_len) cont.resize(max_len - 2);
                if (ctx.size() + cont.size() + 1 > max_len)  // keep the end of the context
                    ctx.erase(ctx.begin(),
                              ctx.begin() + static_cast<std::ptrdiff_t>(ctx.size() + cont.size() + 1 - max_len));
                ids seq{tokenizer::bos_id};
                append(seq, ctx);
                x.cont_start.push_back(seq.size());
                append(seq, cont);
                x.sequences.push_back(std::move(seq));
                x.cont_bytes.push_back(e.choices[c].size());
            }
            break;
        }
    }
    return x;
}

}  // namespace wtasim
