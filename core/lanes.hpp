// For each 8-bit mask m, the positions of its set bits in increasing order, one per byte from the lowest
// (the rest 0): a branch-free way to compress the lanes that a vector compare selected (widen the bytes
// to 32-bit indices, then permute or offset them, and store all eight; the popcount says how many count).
#pragma once

#include <array>
#include <cstdint>

namespace wtasim {

inline const std::array<std::uint64_t, 256>& set_lanes() {
    static const std::array<std::uint64_t, 256> table = [] {
        std::array<std::uint64_t, 256> t{};
        for (unsigned m = 0; m < 256; ++m)
            for (unsigned b = 0, k = 0; b < 8; ++b)
                if (m >> b & 1u) t[m] |= std::uint64_t{b} << (8 * k++);
        return t;
    }();
    return table;
}

}  // namespace wtasim
