// The built-in real-data task suite (docs/model.md §9 corpora, installed by tools/fetch-corpora.sh):
//   brown-genre    15-way genre of a Brown passage (about 40 words)               classification, accuracy
//   brown-info     informative (genres A-J) vs imaginative prose (K-R)             classification, accuracy
//   brown-pos      part of speech of every word, Brown tags mapped to the 12 universal tags of Petrov, Das &
//                  McDonald (2012): NOUN VERB ADJ ADV PRON DET ADP NUM CONJ PRT . X   tagging, accuracy
//   spam           SpamAssassin ham vs spam (the mail body)                        classification, accuracy
//   next-sentence  is B the sentence after A (or one from another document)        pair, accuracy
//   continuation   the true next sentence among four (three from other documents)  multiple choice, acc
// Splits are by document (the corpus id hashed as in training/corpus.hpp, 70 / 10 / 20 %), so no passage,
// sentence or distractor of a test document is ever seen in training; distractors come from documents of
// the same split. Every choice (passages, negatives, answer positions) is a pure function of document ids.
#pragma once

#include <string>
#include <vector>

#include "tasks/formats.hpp"

namespace wtasim {

struct suite_limits {
    std::size_t max_train = 4000, max_eval = 400;  // examples per split (evenly thinned when more); 0 = all
};

std::vector<std::string> builtin_task_names();
// Throws config_error for an unknown name (listing the known ones), io_error when the corpus is missing.
task_data builtin_task(const std::string& name, const std::string& data_dir, const suite_limits& limits = {});

// Brown tag (with -tl/-hl/-nc/fw- decorations and + contractions) -> universal tag.
std::string universal_tag(const std::string& brown_tag);
const std::vector<std::string>& universal_tags();

}  // namespace wtasim
