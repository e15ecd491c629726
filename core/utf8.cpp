// UTF-8 validation (core/utf8.hpp).
#include "core/utf8.hpp"

#include <cstdio>

#include "core/error.hpp"

namespace wtasim {

std::size_t invalid_utf8_at(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    for (std::size_t i = 0; i < n;) {
        const unsigned char c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;  // no overlong forms
            if (c == 0xED) hi = 0x9F;  // no surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;  // <= U+10FFFF
        } else {
            return i;
        }
        if (i + len > n) return i;
        if (p[i + 1] < lo || p[i + 1] > hi) return i;
        for (std::size_t k = 2; k < len; ++k)
            if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
        i += len;
    }
    return std::string_view::npos;
}

void require_utf8(std::string_view s, const std::string& where, bool allow_nul) {
    if (!allow_nul)
        if (const std::size_t at = s.find('\0'); at != std::string_view::npos)
            throw config_error(where + ": contains a NUL byte at byte " + std::to_string(at));
    const std::size_t at = invalid_utf8_at(s);
    if (at == std::string_view::npos) return;
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(s[at])));
    throw config_error(where + ": invalid UTF-8 at byte " + std::to_string(at) + " (" + byte + ")");
}

}  // namespace wtasim
