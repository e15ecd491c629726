// Helpers the task files share (tasks/encode.cpp, predict.cpp, finetune.cpp): token-id sequences, padding
// a batch of them, the log-likelihood of a continuation, words with their character ranges. Not a public
// interface: included only by tasks/*.cpp.
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "training/tokenizer.hpp"

namespace wtasim::task_detail {

using ids = std::vector<std::int32_t>;

// Appends `b` to `a` and returns a.
inline ids& append(ids& a, const ids& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// "<s> a </s>" or "<s> a </s> b </s>", trimming the longer text from its end until it fits.
inline ids encode_texts(const tokenizer& tok, const std::string& a, const std::string& b, std::size_t max_len) {
    ids ta = tok.encode(a), tb = b.empty() ? ids{} : tok.encode(b);
    const std::size_t specials = b.empty() ? 2 : 3;
    if (max_len < specials + 2) throw config_error("task: max_len = " + std::to_string(max_len) + " is too short");
    while (ta.size() + tb.size() + specials > max_len) {
        if (ta.size() >= tb.size())
            ta.pop_back();
        else
            tb.pop_back();
    }
    ids out{tokenizer::bos_id};
    append(out, ta).push_back(tokenizer::eos_id);
    if (!b.empty()) append(out, tb).push_back(tokenizer::eos_id);
    return out;
}

// Whitespace-separated words of `text` with their character ranges.
inline void split_words(const std::string& text, std::vector<std::string>& words, std::vector<std::size_t>& begin,
                        std::vector<std::size_t>& end) {
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        if (i == text.size()) break;
        const std::size_t b = i;
        while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        words.push_back(text.substr(b, i - b));
        begin.push_back(b);
        end.push_back(i);
    }
}

inline std::size_t argmax(const float* x, std::size_t n) {
    return static_cast<std::size_t>(std::max_element(x, x + n) - x);
}

// log softmax(row)[target] in double.
inline double log_prob(const float* row, std::size_t V, std::int32_t target) {
    const float mx = *std::max_element(row, row + V);
    double sum = 0;
    for (std::size_t v = 0; v < V; ++v) sum += std::exp(double(row[v]) - mx);
    return double(row[target]) - mx - std::log(sum);
}

struct padded {
    std::vector<std::int32_t> tokens;
    std::vector<std::uint8_t> mask;
    std::size_t B = 0, N = 0;
};

inline padded pad(const std::vector<const ids*>& seqs) {
    padded p;
    p.B = seqs.size();
    for (const ids* s : seqs) p.N = std::max(p.N, s->size());
    p.tokens.assign(p.B * p.N, tokenizer::pad_id);
    p.mask.assign(p.B * p.N, 0);
    for (std::size_t b = 0; b < p.B; ++b) {
        std::copy(seqs[b]->begin(), seqs[b]->end(), p.tokens.begin() + static_cast<std::ptrdiff_t>(b * p.N));
        std::fill_n(p.mask.begin() + static_cast<std::ptrdiff_t>(b * p.N), seqs[b]->size(), 1);
    }
    return p;
}

// Multiple choice: log-likelihood of each sequence's continuation from LM logits [N, V] of that sequence.
inline double continuation_loglik(const float* logits, const ids& seq, std::size_t cont_start, std::size_t V) {
    double ll = 0;
    for (std::size_t i = std::max<std::size_t>(cont_start, 1); i < seq.size(); ++i)
        ll += log_prob(logits + (i - 1) * V, V, seq[i]);
    return ll;
}

inline constexpr float no_span = -1e30f;  // start / end logit of a position that cannot hold an answer

}  // namespace wtasim::task_detail
