// Names of the operation classes of docs/model.md §7.
#include "energy/op_counts.hpp"

#include <string>

#include "core/error.hpp"

namespace wtasim {
namespace {
constexpr std::array<std::string_view, n_op_classes> names = {"AC", "MAC", "CMP", "NU", "EXP", "DIV", "MEM_R", "MEM_W"};
}

std::string_view op_class_name(op_class c) {
    return names.at(static_cast<std::size_t>(c));
}

op_class op_class_from_name(std::string_view name) {
    for (std::size_t i = 0; i < n_op_classes; ++i)
        if (names[i] == name) return static_cast<op_class>(i);
    throw config_error("operation class \"" + std::string(name) +
                       "\" is unknown, expected one of AC, MAC, CMP, NU, EXP, DIV, MEM_R, MEM_W");
}

}  // namespace wtasim
