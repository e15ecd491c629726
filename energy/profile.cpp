// Loading and validating energy profiles (energy/profile.hpp).
#include "energy/profile.hpp"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "energy/profiles_embedded.hpp"

namespace wtasim {

double energy_profile::energy_pj(const op_counts& counts) const {
    double total = 0.0;
    for (std::size_t i = 0; i < n_op_classes; ++i) total += static_cast<double>(counts.n[i]) * cost_pj[i];
    return total;
}

double paper_convention_energy_pj(const op_counts& counts) {
    return 4.6 * static_cast<double>(counts[op_class::mac]) + 0.9 * static_cast<double>(counts[op_class::ac]);
}

energy_profile load_energy_profile(const std::string& path) {
    return parse_energy_profile(json_reader::read_file(path, "energy profile", std::size_t{1} << 20), path);
}

energy_profile parse_energy_profile(const std::string& text, const std::string& path) {
    const nlohmann::json j = json_reader::parse(text, path, std::size_t{1} << 20);
    auto fail = [&](const std::string& pointer, const nlohmann::json& value, const std::string& expected) {
        throw config_error(path + ": " + pointer + " = " + value.dump() + ", " + expected);
    };
    if (!j.is_object()) fail("/", j, "expected an object");
    for (const auto& [key, value] : j.items())
        if (key != "name" && key != "source" && key != "costs_pj" && key != "justification")
            fail("/" + key, value, "unknown key, expected name, source, costs_pj, justification");
    energy_profile p;
    for (const char* key : {"name", "source"}) {
        if (!j.contains(key) || !j[key].is_string() || j[key].get<std::string>().empty())
            fail(std::string("/") + key, j.value(key, nlohmann::json()), "expected a non-empty string");
    }
    p.name = j["name"];
    p.source = j["source"];
    for (const char* table : {"costs_pj", "justification"}) {
        if (!j.contains(table) || !j[table].is_object())
            fail(std::string("/") + table, j.value(table, nlohmann::json()),
                 "expected an object keyed by AC, MAC, ...");
        for (const auto& [key, value] : j[table].items()) {
            try {
                op_class_from_name(key);
            } catch (const config_error& e) {
                fail(std::string("/") + table + "/" + key, value, e.what());
            }
        }
    }
    for (std::size_t i = 0; i < n_op_classes; ++i) {
        const std::string cls(op_class_name(static_cast<op_class>(i)));
        const auto& cost = j["costs_pj"];
        if (!cost.contains(cls)) fail("/costs_pj/" + cls, nullptr, "missing, every operation class needs a cost");
        if (!cost[cls].is_number() || !std::isfinite(cost[cls].get<double>()) || cost[cls].get<double>() < 0)
            fail("/costs_pj/" + cls, cost[cls], "expected a finite number >= 0 (picojoules)");
        p.cost_pj[i] = cost[cls];
        const auto& why = j["justification"];
        if (!why.contains(cls) || !why[cls].is_string() || why[cls].get<std::string>().empty())
            fail("/justification/" + cls, why.value(cls, nlohmann::json()), "expected a non-empty string");
        p.justification[i] = why[cls];
    }
    bool any = false;
    for (double c : p.cost_pj) any = any || c > 0;
    if (!any) fail("/costs_pj", j["costs_pj"], "every cost is 0: a profile must give some operation a cost > 0");
    return p;
}

energy_profile shipped_energy_profile(const std::string& name) {
    std::string names;
    for (const auto& p : shipped_energy_profile_texts()) {
        if (p.name == name) return parse_energy_profile(std::string(p.json), "energy/profiles/" + name + ".json");
        names += (names.empty() ? "" : ", ") + std::string(p.name);
    }
    throw config_error("energy profile \"" + name + "\" is not shipped, expected one of " + names +
                       " or the path of a profile JSON file");
}

energy_profile energy_profile_from(const std::string& name_or_path) {
    const bool is_path =
        name_or_path.find('/') != std::string::npos || (name_or_path.size() > 5 && name_or_path.ends_with(".json"));
    return is_path ? load_energy_profile(name_or_path) : shipped_energy_profile(name_or_path);
}

}  // namespace wtasim
