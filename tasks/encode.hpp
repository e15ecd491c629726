// Encoding a task example into the token ids that every consumer (the trainer, the simulator) sees
// (docs/model.md §4 readouts): one text "<s> a </s>", two texts "<s> a </s> b </s>" (the longer one trimmed
// first to fit max_len); tagging encodes word by word and labels each word's first piece (the rest are
// ignored, -1); span QA is "<s> question </s> context window" with context words mapped to pieces (a long
// context gives several windows overlapping by half; training uses the one holding the answer, evaluation
// scores all); multiple choice is one sequence per choice, "<s> context continuation", with the
// continuation's first index (context and continuation encoded separately, as lm-eval-harness does).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/config.hpp"
#include "tasks/formats.hpp"
#include "training/tokenizer.hpp"

namespace wtasim {

struct encoded_example {
    // one sequence per example; multiple choice: one per choice
    std::vector<std::vector<std::int32_t>> sequences;
    int label = -1;                        // class / gold choice
    float target = 0.0f;                   // regression
    std::vector<std::int32_t> token_tags;  // tagging: per token of sequences[0], -1 = not a word's first piece
    int start = -1, end = -1;              // span QA: answer pieces [start, end] in window answer_window
    int answer_window = -1;                // span QA: the first window holding the whole answer (-1: none)
    // tagging: the word of each word's first piece (-1 elsewhere); span QA: of the answer window (or the
    // first), the context word of each token (-1: question, specials)
    std::vector<int> token_word;
    std::vector<std::vector<int>> window_word;      // span QA: token_word of every window
    std::vector<std::size_t> word_begin, word_end;  // span QA: character range of each context word
    std::vector<std::size_t> cont_start;            // multiple choice: first continuation token of each sequence
    std::vector<std::size_t> cont_bytes;            // multiple choice: continuation length in bytes (acc_norm)
};

encoded_example encode_example(const task_data& task, const task_example& e, const tokenizer& tok, std::size_t max_len);

// The white-space separated words of a text (what a tagging input is made of).
std::vector<std::string> words_of(const std::string& text);

// The model config of a task: the pretrained config plus the task head its kind needs (none for choice).
model_config task_model_config(const model_config& pretrained, const task_data& task);

}  // namespace wtasim
