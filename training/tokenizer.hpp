// The SentencePiece tokenizer (Google's libsentencepiece), trained by wtasim on the training split or
// loaded from a user's model file; its serialised model is what checkpoints store (docs/model.md §8). Ids: 0 <pad>,
// 1 <unk>, 2 <s>, 3 </s>, 4 <mask>; the rest are learned pieces.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace wtasim {

class tokenizer {
public:
    static constexpr std::int32_t pad_id = 0, unk_id = 1, bos_id = 2, eos_id = 3, mask_id = 4;

    // Trains a unigram model of `vocab_size` pieces on `texts` (deterministic for the same input).
    static tokenizer train(const std::vector<std::string>& texts, std::size_t vocab_size);
    static tokenizer from_bytes(const std::vector<std::uint8_t>& model, const std::string& origin);
    static tokenizer from_file(const std::string& path);

    std::vector<std::int32_t> encode(const std::string& text) const;
    std::string decode(const std::vector<std::int32_t>& ids) const;
    std::size_t vocab_size() const;
    // The text of every piece, indexed by id, its word-start mark written as a space (" In"); specials by name.
    std::vector<std::string> piece_texts() const;
    const std::vector<std::uint8_t>& bytes() const { return bytes_; }
    std::vector<std::int32_t> special_ids() const { return {pad_id, unk_id, bos_id, eos_id, mask_id}; }

    tokenizer(tokenizer&&) noexcept;
    tokenizer& operator=(tokenizer&&) noexcept;
    ~tokenizer();

private:
    tokenizer();
    struct impl;
    std::unique_ptr<impl> impl_;
    std::vector<std::uint8_t> bytes_;
};

}  // namespace wtasim
