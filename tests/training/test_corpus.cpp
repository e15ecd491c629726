// The real corpora as installed by tools/fetch-corpora.sh (data/raw), their cleaning, the document-level
// split, user files, and the SentencePiece tokenizer trained on real text.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/error.hpp"
#include "training/corpus.hpp"
#include "training/tokenizer.hpp"

using namespace wtasim;

namespace {
const std::string data_dir = WTASIM_SOURCE_DIR "/data";

const std::vector<document>& brown() {
    static const auto docs = read_corpus("brown", data_dir);
    return docs;
}
}  // namespace

TEST_CASE("corpus: Brown has 500 texts in 15 genres, tags stripped") {
    const auto& docs = brown();
    REQUIRE(docs.size() == 500);
    std::set<std::string> genres;
    for (const auto& d : docs) genres.insert(d.label);
    CHECK(genres.size() == 15);
    CHECK(docs[0].id == "brown/ca01");
    CHECK(docs[0].label == "news");
    CHECK(docs[0].text.starts_with("The Fulton County Grand Jury said Friday an investigation of Atlanta's"));
    CHECK(docs[0].text.find("/at") == std::string::npos);
    CHECK(docs[0].text.find(" ,") == std::string::npos);
}

TEST_CASE("corpus: SpamAssassin mails without headers, labelled ham or spam") {
    const auto docs = read_corpus("spam-assassin", data_dir);
    CHECK(docs.size() == 6046);  // the 2003 public corpus: 2500 + 1400 + 250 ham, 500 + 1396 spam
    std::map<std::string, std::size_t> labels;
    for (const auto& d : docs) ++labels[d.label];
    CHECK(labels["spam"] == 1896);
    CHECK(labels["ham"] == 4150);
    std::size_t with_headers = 0;
    for (const auto& d : docs) with_headers += d.text.starts_with("Return-Path:") ? 1 : 0;
    CHECK(with_headers <= 2);  // a forwarded mail may quote headers in its body; the mail's own are gone
}

TEST_CASE("corpus: the King James Bible as 1189 chapters") {
    const auto docs = read_corpus("kjv", data_dir);
    CHECK(docs.size() == 1189);
    CHECK(docs[0].id == "kjv/Ge 1");
    CHECK(docs[0].text.starts_with("In the beginning God created the heaven and the earth. And the earth"));
    CHECK(docs.back().text.ends_with("The grace of our Lord Jesus Christ be with you all. Amen."));
}

TEST_CASE("corpus: the split is by document, deterministic and about 90 / 5 / 5") {
    const auto docs = read_corpus("kjv", data_dir);
    std::size_t n[3] = {0, 0, 0};
    for (const auto& d : docs) ++n[static_cast<int>(split_of(d.id))];
    CHECK(n[0] + n[1] + n[2] == docs.size());
    CHECK(double(n[0]) / double(docs.size()) == doctest::Approx(0.9).epsilon(0.04));
    CHECK(n[1] > 30);
    CHECK(n[2] > 30);
    CHECK(split_of("kjv/Ge 1") == split_of("kjv/Ge 1"));
    CHECK(select(docs, split::valid).size() == n[1]);
}

TEST_CASE("corpus: user files — plain text paragraphs and JSONL, with line-numbered errors") {
    const auto dir = std::filesystem::temp_directory_path();
    const std::string txt = (dir / "wtasim_docs.txt").string(), jl = (dir / "wtasim_docs.jsonl").string(),
                      bad = (dir / "wtasim_bad.jsonl").string();
    std::ofstream(txt) << "First   doc\nstill first.\n\n\nSecond doc.\n";
    std::ofstream(jl) << R"({"text": "one", "label": "a"})"
                      << "\n\n"
                      << R"({"text": "two  words"})"
                      << "\n";
    std::ofstream(bad) << R"({"text": "ok"})"
                       << "\n"
                       << R"({"body": "no text"})"
                       << "\n";
    const auto t = read_text_file(txt);
    REQUIRE(t.size() == 2);
    CHECK(t[0].text == "First doc still first.");
    const auto j = read_jsonl(jl);
    REQUIRE(j.size() == 2);
    CHECK(j[0].label == "a");
    CHECK(j[1].text == "two words");
    CHECK_THROWS_WITH_AS(read_jsonl(bad), (bad + ":2: field \"text\" missing or not a string").c_str(), config_error);
    CHECK_THROWS_AS(read_corpus("wikipedia", data_dir), config_error);
}

TEST_CASE("tokenizer: SentencePiece trained on Brown round-trips text and survives serialisation") {
    std::vector<std::string> texts;
    for (const auto& d : select(brown(), split::train))
        if (texts.size() < 60) texts.push_back(d.text);
    const tokenizer tok = tokenizer::train(texts, 800);
    CHECK(tok.vocab_size() == 800);
    const std::string sentence = "The jury said the election was conducted fairly.";
    const auto ids = tok.encode(sentence);
    CHECK(ids.size() > 3);
    CHECK(ids.size() < 20);
    CHECK(tok.decode(ids) == sentence);
    for (auto id : ids) CHECK(id > tokenizer::mask_id);  // real pieces, never a special id
    // the pieces' texts (a trace's token_text) spell the sentence, each word after a space
    const std::vector<std::string> pieces = tok.piece_texts();
    REQUIRE(pieces.size() == tok.vocab_size());
    std::string spelled;
    for (auto id : ids) spelled += pieces[std::size_t(id)];
    CHECK(spelled == " " + sentence);
    CHECK(pieces[tokenizer::bos_id] == "<s>");
    const auto masked = tok.encode("the <mask> said");
    CHECK(std::count(masked.begin(), masked.end(), tokenizer::mask_id) == 1);
    const tokenizer again = tokenizer::from_bytes(tok.bytes(), "copy");
    CHECK(again.encode(sentence) == ids);
    CHECK(tokenizer::train(texts, 800).bytes() == tok.bytes());  // deterministic
    CHECK_THROWS_AS(tokenizer::from_bytes({1, 2, 3}, "junk"), io_error);
}
