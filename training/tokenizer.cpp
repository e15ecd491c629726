// SentencePiece behind the tokenizer interface (training/tokenizer.hpp).
#include "training/tokenizer.hpp"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace wtasim {
namespace {
// Feeds documents to the trainer as pieces of at most `max_bytes`, cut at spaces (SentencePiece skips
// longer sentences).
class chunk_iterator : public sentencepiece::SentenceIterator {
public:
    chunk_iterator(const std::vector<std::string>& texts, std::size_t max_bytes) {
        for (const auto& t : texts)
            for (std::size_t at = 0; at < t.size();) {
                std::size_t end = std::min(t.size(), at + max_bytes);
                if (end < t.size()) {
                    const std::size_t space = t.rfind(' ', end);
                    if (space != std::string::npos && space > at) end = space;
                }
                chunks_.push_back(t.substr(at, end - at));
                at = end + (end < t.size() && t[end] == ' ' ? 1 : 0);
            }
    }
    bool done() const override { return i_ >= chunks_.size(); }
    void Next() override { ++i_; }
    const std::string& value() const override { return chunks_[i_]; }
    sentencepiece::util::Status status() const override { return {}; }

private:
    std::vector<std::string> chunks_;
    std::size_t i_ = 0;
};
}  // namespace

struct tokenizer::impl {
    sentencepiece::SentencePieceProcessor sp;
};

tokenizer::tokenizer() : impl_(std::make_unique<impl>()) {}
tokenizer::tokenizer(tokenizer&&) noexcept = default;
tokenizer& tokenizer::operator=(tokenizer&&) noexcept = default;
tokenizer::~tokenizer() = default;

tokenizer tokenizer::train(const std::vector<std::string>& texts, std::size_t vocab_size) {
    if (vocab_size < 16)
        throw config_error("tokenizer: vocab_size = " + std::to_string(vocab_size) + ", must be >= 16");
    chunk_iterator it(texts, 2000);
    std::string model;
    const std::string args = "--model_type=unigram --vocab_size=" + std::to_string(vocab_size) +
                             " --pad_id=0 --unk_id=1 --bos_id=2 --eos_id=3 --user_defined_symbols=<mask>"
                             " --character_coverage=0.9995 --num_threads=1 --shuffle_input_sentence=false"
                             " --input_sentence_size=0 --hard_vocab_limit=false --minloglevel=2";
    // SentencePiece logs its command line to stderr before it reads --minloglevel; its errors come back in
    // the returned status, so stderr is silenced for the duration of the call.
    std::fflush(stderr);
    const int saved = ::dup(2), devnull = ::open("/dev/null", O_WRONLY);
    if (saved >= 0 && devnull >= 0) ::dup2(devnull, 2);
    const auto status = sentencepiece::SentencePieceTrainer::Train(args, &it, &model);
    if (saved >= 0 && devnull >= 0) {
        std::fflush(stderr);
        ::dup2(saved, 2);
    }
    if (saved >= 0) ::close(saved);
    if (devnull >= 0) ::close(devnull);
    if (!status.ok()) throw config_error("tokenizer: SentencePiece training failed: " + status.ToString());
    return from_bytes(std::vector<std::uint8_t>(model.begin(), model.end()), "trained model");
}

tokenizer tokenizer::from_bytes(const std::vector<std::uint8_t>& model, const std::string& origin) {
    tokenizer t;
    const auto status = t.impl_->sp.LoadFromSerializedProto(
        std::string_view(reinterpret_cast<const char*>(model.data()), model.size()));
    if (!status.ok()) throw io_error(origin + ": not a SentencePiece model (" + status.ToString() + ")");
    const auto& sp = t.impl_->sp;
    if (sp.pad_id() != pad_id || sp.unk_id() != unk_id || sp.bos_id() != bos_id || sp.eos_id() != eos_id ||
        sp.PieceToId("<mask>") != mask_id)
        throw io_error(origin + ": the SentencePiece model's special ids are pad " + std::to_string(sp.pad_id()) +
                       ", unk " + std::to_string(sp.unk_id()) + ", bos " + std::to_string(sp.bos_id()) + ", eos " +
                       std::to_string(sp.eos_id()) + ", <mask> " + std::to_string(sp.PieceToId("<mask>")) +
                       "; wtasim needs 0, 1, 2, 3, 4 (train with --pad_id=0 --unk_id=1 --bos_id=2 --eos_id=3 "
                       "--user_defined_symbols=<mask>, or let wtasim train one)");
    t.bytes_ = model;
    return t;
}

tokenizer tokenizer::from_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error(path + ": cannot open tokenizer model");
    std::stringstream s;
    s << in.rdbuf();
    const std::string b = s.str();
    return from_bytes(std::vector<std::uint8_t>(b.begin(), b.end()), path);
}

std::vector<std::int32_t> tokenizer::encode(const std::string& text) const {
    std::vector<int> ids;
    const auto status = impl_->sp.Encode(text, &ids);
    if (!status.ok()) throw internal_error("tokenizer: encode failed: " + status.ToString());
    return {ids.begin(), ids.end()};
}

std::string tokenizer::decode(const std::vector<std::int32_t>& ids) const {
    std::string out;
    const auto status = impl_->sp.Decode(std::vector<int>(ids.begin(), ids.end()), &out);
    if (!status.ok()) throw internal_error("tokenizer: decode failed: " + status.ToString());
    return out;
}

std::vector<std::string> tokenizer::piece_texts() const {
    std::vector<std::string> out;
    const std::string mark = "\xe2\x96\x81";  // U+2581, SentencePiece's word-start mark
    for (int id = 0; id < impl_->sp.GetPieceSize(); ++id) {
        std::string p = impl_->sp.IdToPiece(id);
        for (std::size_t at = p.find(mark); at != std::string::npos; at = p.find(mark, at + 1)) p.replace(at, 3, " ");
        out.push_back(p);
    }
    return out;
}

std::size_t tokenizer::vocab_size() const {
    return static_cast<std::size_t>(impl_->sp.GetPieceSize());
}

}  // namespace wtasim
