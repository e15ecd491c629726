// Corpus readers and the document-level split (training/corpus.hpp).
#include "training/corpus.hpp"

#include <cstdlib>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "core/utf8.hpp"

namespace wtasim {
namespace fs = std::filesystem;
namespace {
std::string read_all(const std::string& path) {
    std::error_code err;
    if (fs::is_directory(path, err)) throw io_error(path + ": is a directory, expected a text file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error(path + ": cannot open" + (fs::exists(path, err) ? "" : " (no such file)"));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// A line of a line-based corpus file: at most 1 MiB, valid UTF-8 without NUL bytes (docs/training.md).
constexpr std::size_t max_line_bytes = std::size_t{1} << 20;
constexpr std::size_t max_document_bytes = std::size_t{16} << 20;
void check_line(const std::string& line, const std::string& file, std::size_t number) {
    const std::string where = file + ": line " + std::to_string(number);
    if (line.size() > max_line_bytes)
        throw config_error(where + ": " + std::to_string(line.size()) + " bytes, longer than the limit of 1 MiB");
    require_utf8(line, where);
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string brown_text(const std::string& raw) {
    std::vector<std::string> words;
    std::istringstream in(raw);
    std::string tok;
    while (in >> tok) {
        const std::size_t slash = tok.rfind('/');
        words.push_back(slash == std::string::npos || slash == 0 ? tok : tok.substr(0, slash));
    }
    return brown_join(words);
}
}  // namespace

std::vector<document> read_brown_genres(const std::string& dir);

// Brown words -> text: `` and '' become quotes; no space before , . ; : ? ! ) 's n't and after (.
std::string brown_join(const std::vector<std::string>& words) {
    std::string out;
    bool glue_next = false;
    for (std::string word : words) {
        if (word == "``" || word == "''") word = "\"";
        const bool closing = word == "," || word == "." || word == ";" || word == ":" || word == "?" || word == "!" ||
                             word == ")" || word == "'s" || word == "n't";
        if (!out.empty() && !closing && !glue_next) out += ' ';
        out += word;
        glue_next = word == "(";
    }
    return out;
}

std::vector<tagged_document> read_brown_tagged(const std::string& dir) {
    std::vector<tagged_document> out;
    for (const document& d : read_brown_genres(dir)) {
        tagged_document t{d.id, d.label, {}};
        std::istringstream in(read_all(dir + "/" + d.id.substr(d.id.find('/') + 1)));
        std::string line;
        while (std::getline(in, line)) {
            std::istringstream words(line);
            std::vector<tagged_word> sentence;
            std::string tok;
            while (words >> tok) {
                const std::size_t slash = tok.rfind('/');
                if (slash == std::string::npos || slash == 0 || slash + 1 == tok.size())
                    throw io_error(dir + "/" + d.id.substr(6) + ": \"" + tok + "\" is not word/tag");
                sentence.push_back({tok.substr(0, slash), tok.substr(slash + 1)});
            }
            if (!sentence.empty()) t.sentences.push_back(std::move(sentence));
        }
        out.push_back(std::move(t));
    }
    return out;
}

std::string collapse_spaces(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    bool space = false;
    for (char c : s) {
        if (is_space(c)) {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
    }
    return out;
}

// The 500 texts and their genres from cats.txt (text left empty).
std::vector<document> read_brown_genres(const std::string& dir) {
    std::map<std::string, std::string> genre;
    {
        std::istringstream cats(read_all(dir + "/cats.txt"));
        std::string file, cat;
        while (cats >> file >> cat) genre[file] = cat;
    }
    if (genre.size() != 500)
        throw io_error(dir + "/cats.txt: " + std::to_string(genre.size()) + " texts listed, expected 500 (Brown)");
    std::vector<document> docs;
    for (const auto& [file, cat] : genre) docs.push_back({"brown/" + file, cat, ""});
    return docs;
}

std::vector<document> read_brown(const std::string& dir) {
    std::vector<document> docs = read_brown_genres(dir);
    for (document& d : docs) d.text = brown_text(read_all(dir + "/" + d.id.substr(6)));
    return docs;
}

std::vector<document> read_spam_assassin(const std::string& dir) {
    std::vector<document> docs;
    const fs::path data = fs::path(dir) / "data";
    std::error_code err;
    if (!fs::is_directory(data, err)) throw io_error(data.string() + ": not a folder (run tools/fetch-corpora.sh)");
    std::vector<fs::path> files;
    for (const auto& group : fs::directory_iterator(data))
        if (group.is_directory())
            for (const auto& f : fs::directory_iterator(group.path()))
                if (f.path().extension() == ".json") files.push_back(f.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(read_all(f.string()));
        } catch (const nlohmann::json::exception& e) {
            throw io_error(f.string() + ": not valid JSON (" + json_reader::reason(e) + ")");
        }
        if (!j.is_object()) throw io_error(f.string() + ": expected a JSON object");
        for (const char* key : {"group", "text", "id"})
            if (j.contains(key) && !j[key].is_string())
                throw io_error(f.string() + ": /" + key + " = " + j[key].dump().substr(0, 80) + ", expected a string");
        const std::string group = j.value("group", f.parent_path().filename().string());
        const std::string text = j.value("text", "");
        const std::size_t body = text.find("\n\n");
        docs.push_back({"spam-assassin/" + group + "/" + j.value("id", f.stem().string()),
                        group.starts_with("spam") ? "spam" : "ham",
                        collapse_spaces(body == std::string::npos ? text : text.substr(body + 2))});
    }
    return docs;
}

std::vector<kjv_verse> read_kjv_verses(const std::string& file) {
    std::istringstream in(read_all(file));
    std::vector<kjv_verse> verses;
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        check_line(line, file, number);
        if (line.empty()) continue;
        // "1Co13:4 Charity suffereth long": book = leading digit + letters, then chapter:verse
        std::size_t i = 0;
        if (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
        while (i < line.size() && std::isalpha(static_cast<unsigned char>(line[i]))) ++i;
        const std::size_t colon = line.find(':', i), space = line.find(' ', i);
        if (i == 0 || colon == std::string::npos || space == std::string::npos || colon > space)
            throw config_error(file + ":" + std::to_string(number) + ": \"" + line.substr(0, 40) +
                               "\" is not a verse line (expected Book<chapter>:<verse> text)");
        verses.push_back({"kjv/" + line.substr(0, i) + " " + line.substr(i, colon - i), line.substr(0, i),
                          collapse_spaces(line.substr(space + 1))});
    }
    return verses;
}

std::vector<document> read_kjv(const std::string& file) {
    std::vector<document> docs;
    for (const kjv_verse& v : read_kjv_verses(file)) {
        if (docs.empty() || docs.back().id != v.chapter) docs.push_back({v.chapter, "", ""});
        if (!docs.back().text.empty()) docs.back().text += ' ';
        docs.back().text += v.text;
    }
    return docs;
}

std::vector<document> read_text_file(const std::string& file) {
    std::istringstream in(read_all(file));
    std::vector<document> docs;
    std::string line, current;
    std::size_t number = 0;
    auto flush = [&] {
        if (current.size() > max_document_bytes)
            throw config_error(file + ": the paragraph ending at line " + std::to_string(number) + " is " +
                               std::to_string(current.size()) + " bytes, longer than the limit of 16 MiB");
        const std::string text = collapse_spaces(current);
        if (!text.empty()) docs.push_back({file + "#" + std::to_string(docs.size()), "", text});
        current.clear();
    };
    while (std::getline(in, line)) {
        ++number;
        check_line(line, file, number);
        if (current.size() > max_document_bytes) flush();
        if (collapse_spaces(line).empty())
            flush();
        else
            current += line + ' ';
    }
    flush();
    return docs;
}

std::vector<document> read_jsonl(const std::string& file, const std::string& text_field) {
    std::istringstream in(read_all(file));
    std::vector<document> docs;
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        check_line(line, file, number);
        if (collapse_spaces(line).empty()) continue;
        const std::string where = file + ":" + std::to_string(number);
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception&) {
            throw config_error(where + ": not valid JSON");
        }
        json_reader::parse(line, where);  // duplicate keys, nesting depth
        if (!j.is_object() || !j.contains(text_field) || !j[text_field].is_string())
            throw config_error(where + ": field \"" + text_field + "\" missing or not a string");
        if (j[text_field].get<std::string>().find('\0') != std::string::npos)
            throw config_error(where + ": field \"" + text_field + "\" contains a NUL byte");
        std::string label;
        if (j.contains("label")) label = j["label"].is_string() ? j["label"].get<std::string>() : j["label"].dump();
        docs.push_back({file + "#" + std::to_string(number), label, collapse_spaces(j[text_field].get<std::string>())});
    }
    return docs;
}

std::string default_data_dir() {
    if (const char* env = std::getenv("WTASIM_DATA_DIR"); env && *env) return env;
    return WTASIM_DEFAULT_DATA_DIR;
}

std::vector<document> read_corpus(const std::string& name, const std::string& data_dir) {
    const std::string raw = data_dir + "/raw";
    std::error_code err;
    if (!fs::is_directory(raw, err))
        throw io_error("corpus \"" + name + "\": " + raw + " is not a folder: the data folder is " + data_dir +
                       "; set it with WTASIM_DATA_DIR or the scenario's \"data_dir\" (and run tools/fetch-corpora.sh)");
    if (name == "brown") return read_brown(raw + "/brown");
    if (name == "spam-assassin") return read_spam_assassin(raw + "/spam-assassin");
    if (name == "kjv") return read_kjv(raw + "/kjv.txt");
    throw config_error("corpus \"" + name + "\" is unknown, expected \"brown\", \"spam-assassin\" or \"kjv\"");
}

split split_of(const std::string& id, double valid_fraction, double test_fraction) {
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a, 64 bit
    for (unsigned char c : id) {
        h ^= c;
        h *= 1099511628211ull;
    }
    // FNV-1a's high bits mix poorly for short, similar ids ("kjv/Ge 1", "kjv/Ge 2"): finish with the
    // splitmix64 mixer before taking 53 bits.
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    const double u = double(h >> 11) / 9007199254740992.0;  // 53 bits -> [0, 1)
    if (u < 1.0 - valid_fraction - test_fraction) return split::train;
    if (u < 1.0 - test_fraction) return split::valid;
    return split::test;
}

std::vector<document> select(const std::vector<document>& docs, split s, double valid_fraction, double test_fraction) {
    std::vector<document> out;
    for (const auto& d : docs)
        if (split_of(d.id, valid_fraction, test_fraction) == s) out.push_back(d);
    return out;
}

const char* split_name(split s) {
    return s == split::train ? "train" : s == split::valid ? "valid" : "test";
}

}  // namespace wtasim
