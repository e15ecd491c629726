// UTF-8 validation for text that comes from outside (prompts, data files): an invalid byte is an error
// naming where it is, never a crash later (JSON output, the tokenizer) or a silently mangled text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace wtasim {

// The byte offset of the first invalid UTF-8 sequence in `s` (overlong forms, surrogates and code points
// above U+10FFFF are invalid), or std::string_view::npos when `s` is valid.
std::size_t invalid_utf8_at(std::string_view s);

// Throws config_error "<where>: invalid UTF-8 at byte <n> (0xNN)" when `s` is not valid UTF-8, and
// "<where>: contains a NUL byte at byte <n>" when `allow_nul` is false and `s` holds a '\0'.
void require_utf8(std::string_view s, const std::string& where, bool allow_nul = false);

}  // namespace wtasim
