// Row validity from a token mask (attention/shape.hpp).
#include "attention/shape.hpp"

#include "core/error.hpp"

namespace wtasim {

std::vector<std::uint8_t> row_validity(const seq_shape& s, const std::vector<std::uint8_t>& token_mask) {
    if (!token_mask.empty() && token_mask.size() != s.B * s.N)
        throw internal_error("row_validity: mask of " + std::to_string(token_mask.size()) +
                             " entries for B x N = " + std::to_string(s.B * s.N));
    std::vector<std::uint8_t> valid(s.rows(), 1);
    if (token_mask.empty()) return valid;
    for (std::size_t t = 0; t < s.T; ++t)
        for (std::size_t bn = 0; bn < s.B * s.N; ++bn) valid[t * s.B * s.N + bn] = token_mask[bn] ? 1 : 0;
    return valid;
}

std::size_t real_tokens(const seq_shape& s, const std::vector<std::uint8_t>& token_mask) {
    if (token_mask.empty()) return s.B * s.N;
    std::size_t n = 0;
    for (auto m : token_mask) n += m ? 1 : 0;
    return n;
}

}  // namespace wtasim
