// The built-in task suite (tasks/suite.hpp).
#include "tasks/suite.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "core/error.hpp"
#include "training/corpus.hpp"

namespace wtasim {
namespace {

constexpr double valid_fraction = 0.1, test_fraction = 0.2;

// FNV-1a + splitmix64 of a string: the deterministic coin of every choice below.
std::uint64_t hash_of(const std::string& s) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

task_example text_example(std::string id, std::string text, int label) {
    task_example e;
    e.id = std::move(id);
    e.text_a = std::move(text);
    e.label = label;
    return e;
}

std::vector<task_example>& split_vector(task_data& t, split s) {
    return s == split::train ? t.train : s == split::valid ? t.valid : t.test;
}

// Keeps at most `cap` examples, evenly spaced, so every document and class stays represented.
void thin(std::vector<task_example>& v, std::size_t cap) {
    if (cap == 0 || v.size() <= cap) return;
    std::vector<task_example> kept;
    kept.reserve(cap);
    for (std::size_t i = 0; i < cap; ++i) kept.push_back(std::move(v[i * v.size() / cap]));
    v = std::move(kept);
}

void apply_limits(task_data& t, const suite_limits& l) {
    thin(t.train, l.max_train);
    thin(t.valid, l.max_eval);
    thin(t.test, l.max_eval);
}

std::vector<std::string> words_of(const std::vector<tagged_word>& s) {
    std::vector<std::string> w;
    for (const auto& x : s) w.push_back(x.word);
    return w;
}

// Brown passages: consecutive sentences joined until about `words` words; at most `per_doc` per text.
task_data brown_passages(const std::string& dir, const std::string& name, bool binary) {
    task_data t;
    t.name = name;
    t.kind = task_kind::classification;
    t.metric = "accuracy";
    const auto docs = read_brown_tagged(dir);
    std::map<std::string, int> genre_index;
    if (binary) {
        t.labels = {"informative", "imaginative"};
    } else {
        for (const auto& d : docs) genre_index.emplace(d.label, 0);
        for (auto& [g, i] : genre_index) {
            i = static_cast<int>(t.labels.size());
            t.labels.push_back(g);
        }
    }
    constexpr std::size_t words = 40, per_doc = 12;
    for (const auto& d : docs) {
        const char letter = d.id.size() > 7 ? d.id[7] : 'a';  // "brown/ca01": genre letter a..r
        const int label = binary ? (letter <= 'j' ? 0 : 1) : genre_index.at(d.label);
        auto& out = split_vector(t, split_of(d.id, valid_fraction, test_fraction));
        std::vector<std::string> passage;
        std::size_t made = 0;
        for (const auto& s : d.sentences) {
            const auto w = words_of(s);
            passage.insert(passage.end(), w.begin(), w.end());
            if (passage.size() < words) continue;
            out.push_back(text_example(d.id + "#" + std::to_string(made), brown_join(passage), label));
            passage.clear();
            if (++made == per_doc) break;
        }
    }
    return t;
}

task_data brown_pos(const std::string& dir) {
    task_data t;
    t.name = "brown-pos";
    t.kind = task_kind::tagging;
    t.metric = "accuracy";
    t.labels = universal_tags();
    std::map<std::string, int> index;
    for (std::size_t i = 0; i < t.labels.size(); ++i) index[t.labels[i]] = static_cast<int>(i);
    constexpr std::size_t per_doc = 10, max_words = 30;
    for (const auto& d : read_brown_tagged(dir)) {
        auto& out = split_vector(t, split_of(d.id, valid_fraction, test_fraction));
        std::size_t made = 0;
        for (std::size_t i = 0; i < d.sentences.size() && made < per_doc; ++i) {
            const auto& s = d.sentences[i];
            if (s.size() < 4 || s.size() > max_words) continue;
            task_example e;
            e.id = d.id + "#s" + std::to_string(i);
            for (const auto& w : s) {
                e.words.push_back(w.word == "``" || w.word == "''" ? "\"" : w.word);
                e.tags.push_back(index.at(universal_tag(w.tag)));
            }
            out.push_back(std::move(e));
            ++made;
        }
    }
    return t;
}

task_data spam(const std::string& dir) {
    task_data t;
    t.name = "spam";
    t.kind = task_kind::classification;
    t.metric = "accuracy";
    t.labels = {"ham", "spam"};
    for (const auto& d : read_spam_assassin(dir)) {
        if (d.text.empty()) continue;
        // the first 600 bytes are more than a window of the small models holds
        std::string text = d.text.substr(0, 600);
        split_vector(t, split_of(d.id, valid_fraction, test_fraction))
            .push_back(text_example(d.id, std::move(text), d.label == "spam" ? 1 : 0));
    }
    return t;
}

// Consecutive sentences of every text of one split ("" = too short or too long to use), with the group a
// distractor must not share (the book of the Bible).
struct sentence_pool {
    std::vector<std::string> doc, group;              // document id and group per text
    std::vector<std::vector<std::string>> sentences;  // per text, in order
};

// King James verses of 4..30 words, one text per chapter ("kjv/Ge 1", as read_kjv names them), split by the
// pretraining corpus's own document split (5% / 5%): the suite's pretrained models saw only training
// chapters, so no test verse was ever seen, not even as unlabelled text.
sentence_pool kjv_verses(const std::string& file, split s) {
    sentence_pool p;
    for (const kjv_verse& v : read_kjv_verses(file)) {
        if (split_of(v.chapter) != s) continue;
        if (p.doc.empty() || p.doc.back() != v.chapter) {
            p.doc.push_back(v.chapter);
            p.group.push_back(v.book);
            p.sentences.emplace_back();
        }
        const std::size_t words = static_cast<std::size_t>(std::count(v.text.begin(), v.text.end(), ' ')) + 1;
        p.sentences.back().push_back(words >= 4 && words <= 30 ? v.text : "");
    }
    return p;
}

// A usable sentence of a text of another group than text `not_doc`, picked by `key`.
const std::string& other_sentence(const sentence_pool& p, std::size_t not_doc, const std::string& key) {
    std::uint64_t h = hash_of(key);
    for (int tries = 0;; ++tries, h = hash_of(key + std::to_string(tries))) {
        const std::size_t d = h % p.doc.size();
        if (d == not_doc || p.group[d] == p.group[not_doc] || p.sentences[d].empty()) continue;
        const std::string& s = p.sentences[d][(h >> 20) % p.sentences[d].size()];
        if (!s.empty()) return s;
    }
}

task_data sentence_task(const std::string& kjv_file, bool multiple_choice) {
    task_data t;
    t.name = multiple_choice ? "continuation" : "next-sentence";
    t.kind = multiple_choice ? task_kind::multiple_choice : task_kind::pair_classification;
    t.metric = multiple_choice ? "acc" : "accuracy";
    t.labels =
        multiple_choice ? std::vector<std::string>{"A", "B", "C", "D"} : std::vector<std::string>{"not_next", "next"};
    constexpr std::size_t per_doc = 12;
    for (split s : {split::train, split::valid, split::test}) {
        const sentence_pool p = kjv_verses(kjv_file, s);
        if (std::set<std::string>(p.group.begin(), p.group.end()).size() < 2) continue;  // no distractors
        auto& out = split_vector(t, s);
        for (std::size_t d = 0; d < p.doc.size(); ++d) {
            std::size_t made = 0;
            for (std::size_t i = 0; i + 1 < p.sentences[d].size() && made < per_doc; i += 2) {
                const std::string &a = p.sentences[d][i], &b = p.sentences[d][i + 1];
                if (a.empty() || b.empty()) continue;
                const std::string id = p.doc[d] + "#" + std::to_string(i);
                task_example e;
                e.id = id;
                if (multiple_choice) {
                    const int gold = static_cast<int>(hash_of(id + "/gold") % 4);
                    e.contexts = {a};
                    for (int c = 0, other = 0; c < 4; ++c)
                        e.choices.push_back(
                            " " + (c == gold ? b : other_sentence(p, d, id + "/d" + std::to_string(other++))));
                    e.label = gold;
                } else {
                    const bool next = made % 2 == 0;  // balanced: every text gives as many of each
                    e.text_a = a;
                    e.text_b = next ? b : other_sentence(p, d, id + "/neg");
                    e.label = next ? 1 : 0;
                }
                out.push_back(std::move(e));
                ++made;
            }
        }
    }
    return t;
}

}  // namespace

const std::vector<std::string>& universal_tags() {
    static const std::vector<std::string> tags{"NOUN", "VERB", "ADJ",  "ADV", "PRON", "DET",
                                               "ADP",  "NUM",  "CONJ", "PRT", ".",    "X"};
    return tags;
}

std::string universal_tag(const std::string& brown_tag) {
    std::string t = brown_tag;
    if (t.rfind("fw-", 0) == 0) return "X";  // foreign words
    for (bool again = true; again;) {        // title / headline / cited decorations, possibly stacked
        again = false;
        for (const char* suffix : {"-tl", "-hl", "-nc"}) {
            const std::string s = suffix;
            if (t.size() > s.size() && t.compare(t.size() - s.size(), s.size(), s) == 0) {
                t.resize(t.size() - s.size());
                again = true;
            }
        }
    }
    if (const std::size_t plus = t.find('+'); plus != std::string::npos && plus > 0) t.resize(plus);  // contractions
    if (t.size() > 1 && t.back() == '*') t.pop_back();                                                // negated forms
    static const std::map<std::string, std::string> map = {
        {".", "."},       {",", "."},       {":", "."},      {"(", "."},       {")", "."},       {"--", "."},
        {"'", "."},       {"`", "."},       {"``", "."},     {"''", "."},      {"nn", "NOUN"},   {"nns", "NOUN"},
        {"nn$", "NOUN"},  {"nns$", "NOUN"}, {"np", "NOUN"},  {"nps", "NOUN"},  {"np$", "NOUN"},  {"nps$", "NOUN"},
        {"nr", "NOUN"},   {"nrs", "NOUN"},  {"nr$", "NOUN"}, {"vb", "VERB"},   {"vbd", "VERB"},  {"vbg", "VERB"},
        {"vbn", "VERB"},  {"vbz", "VERB"},  {"be", "VERB"},  {"bed", "VERB"},  {"bedz", "VERB"}, {"beg", "VERB"},
        {"bem", "VERB"},  {"ben", "VERB"},  {"ber", "VERB"}, {"bez", "VERB"},  {"do", "VERB"},   {"dod", "VERB"},
        {"doz", "VERB"},  {"hv", "VERB"},   {"hvd", "VERB"}, {"hvg", "VERB"},  {"hvn", "VERB"},  {"hvz", "VERB"},
        {"md", "VERB"},   {"jj", "ADJ"},    {"jjr", "ADJ"},  {"jjs", "ADJ"},   {"jjt", "ADJ"},   {"od", "ADJ"},
        {"rb", "ADV"},    {"rbr", "ADV"},   {"rbt", "ADV"},  {"rn", "ADV"},    {"ql", "ADV"},    {"qlp", "ADV"},
        {"wrb", "ADV"},   {"*", "ADV"},     {"abl", "ADV"},  {"rb$", "ADV"},   {"pn", "PRON"},   {"pn$", "PRON"},
        {"pp$", "PRON"},  {"pp$$", "PRON"}, {"ppl", "PRON"}, {"ppls", "PRON"}, {"ppo", "PRON"},  {"pps", "PRON"},
        {"ppss", "PRON"}, {"wp$", "PRON"},  {"wpo", "PRON"}, {"wps", "PRON"},  {"at", "DET"},    {"ap", "DET"},
        {"ap$", "DET"},   {"abn", "DET"},   {"abx", "DET"},  {"dt", "DET"},    {"dt$", "DET"},   {"dti", "DET"},
        {"dts", "DET"},   {"dtx", "DET"},   {"wdt", "DET"},  {"ex", "DET"},    {"in", "ADP"},    {"cd", "NUM"},
        {"cd$", "NUM"},   {"cc", "CONJ"},   {"cs", "CONJ"},  {"rp", "PRT"},    {"to", "PRT"},    {"uh", "X"},
        {"nil", "X"}};
    const auto it = map.find(t);
    return it == map.end() ? "X" : it->second;
}

std::vector<std::string> builtin_task_names() {
    return {"brown-genre", "brown-info", "brown-pos", "spam", "next-sentence", "continuation"};
}

task_data builtin_task(const std::string& name, const std::string& data_dir, const suite_limits& limits) {
    const std::string brown = data_dir + "/raw/brown";
    task_data t;
    if (name == "brown-genre")
        t = brown_passages(brown, name, false);
    else if (name == "brown-info")
        t = brown_passages(brown, name, true);
    else if (name == "brown-pos")
        t = brown_pos(brown);
    else if (name == "spam")
        t = spam(data_dir + "/raw/spam-assassin");
    else if (name == "next-sentence")
        t = sentence_task(data_dir + "/raw/kjv.txt", false);
    else if (name == "continuation")
        t = sentence_task(data_dir + "/raw/kjv.txt", true);
    else {
        std::string known;
        for (const auto& n : builtin_task_names()) known += (known.empty() ? "" : ", ") + n;
        throw config_error("built-in task \"" + name + "\" is unknown, expected one of " + known);
    }
    apply_limits(t, limits);
    return t;
}

}  // namespace wtasim
