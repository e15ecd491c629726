// Sequence batch geometry shared by every layer of the block: activations are [T, B, N, C] with time
// outermost (docs/model.md §1), so row r = (t B + b) N + n of a [rows, C] matrix is token n of sequence b at
// step t. A mask [B, N] marks real tokens (1) and padding (0).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace wtasim {

struct seq_shape {
    std::size_t T = 1, B = 1, N = 1;

    std::size_t rows() const { return T * B * N; }
    std::size_t row(std::size_t t, std::size_t b, std::size_t n) const { return (t * B + b) * N + n; }
};

// One byte per row: 1 where the row's token is real, from a [B, N] token mask (empty = no padding).
std::vector<std::uint8_t> row_validity(const seq_shape& s, const std::vector<std::uint8_t>& token_mask);
// Number of real tokens in a [B, N] mask (B N when it is empty).
std::size_t real_tokens(const seq_shape& s, const std::vector<std::uint8_t>& token_mask);

}  // namespace wtasim
