// Energy profiles (docs/model.md §7): a cost in picojoules for each operation class, loaded from a JSON file
// that states its source and justifies each cost. Energy = sum over classes of count x cost.
// Layout: {"name": str, "source": str, "costs_pj": {"AC": num, ...}, "justification": {"AC": str, ...}}.
// Every class of op_class must have a cost and a justification; unknown keys are errors.
#pragma once

#include <array>
#include <string>

#include "energy/op_counts.hpp"

namespace wtasim {

struct energy_profile {
    std::string name;
    std::string source;
    std::array<double, n_op_classes> cost_pj{};
    std::array<std::string, n_op_classes> justification;

    double cost(op_class c) const { return cost_pj[static_cast<std::size_t>(c)]; }
    double energy_pj(const op_counts& counts) const;
};

// Reads and validates a profile; throws config_error / io_error naming the file, JSON path and value.
energy_profile load_energy_profile(const std::string& path);
// Parses profile JSON text; `path` names its origin in error messages.
energy_profile parse_energy_profile(const std::string& text, const std::string& path);
// A profile shipped in energy/profiles/ and embedded in the binary at build time, by name.
energy_profile shipped_energy_profile(const std::string& name);
// A shipped profile's name ("horowitz45-fp16") or the path of a profile file ("my/profile.json").
energy_profile energy_profile_from(const std::string& name_or_path);

// The convention of the published papers: 4.6 pJ per MAC + 0.9 pJ per AC (45 nm fp32), nothing else.
double paper_convention_energy_pj(const op_counts& counts);

}  // namespace wtasim
