// Operation classes of docs/model.md §7 and a counter over them. Every kernel that does work on spikes or
// values adds what it did here; energy = sum over classes of count x cost(profile).
// Counts are exact integers computed from the actual spikes of a run, never estimated.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wtasim {

enum class op_class : std::uint8_t { ac, mac, cmp, nu, exp, div, mem_r, mem_w };
inline constexpr std::size_t n_op_classes = 8;

// The names used in reports and profiles: "AC", "MAC", "CMP", "NU", "EXP", "DIV", "MEM_R", "MEM_W".
std::string_view op_class_name(op_class c);
// The class named `name`; throws config_error naming the value and the valid names.
op_class op_class_from_name(std::string_view name);

struct op_counts {
    std::array<std::uint64_t, n_op_classes> n{};

    std::uint64_t& operator[](op_class c) { return n[static_cast<std::size_t>(c)]; }
    std::uint64_t operator[](op_class c) const { return n[static_cast<std::size_t>(c)]; }
    void add(op_class c, std::uint64_t count) { (*this)[c] += count; }
    op_counts& operator+=(const op_counts& o) {
        for (std::size_t i = 0; i < n_op_classes; ++i) n[i] += o.n[i];
        return *this;
    }
    friend op_counts operator+(op_counts a, const op_counts& b) { return a += b; }
    friend bool operator==(const op_counts&, const op_counts&) = default;
};

}  // namespace wtasim
