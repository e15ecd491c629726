// The scenario preamble (scenarios/common.hpp).
#include "scenarios/common.hpp"

#include <filesystem>

#include "core/error.hpp"
#include "energy/profile.hpp"
#include "sim/engine.hpp"
#include "training/corpus.hpp"

namespace wtasim {

scenario_text parse_scenario(const std::string& text, const std::string& origin) {
    scenario_text t{json_reader::parse(text, origin), origin, ""};
    t.json = t.root.dump();
    return t;
}

json_reader scenario_root(const scenario_text& t) {
    json_reader r(t.root, t.origin);
    r.set_base_dir(std::filesystem::path(t.origin).parent_path().string());
    return r;
}

std::string read_energy_profile(json_reader& r, const std::string& key, const std::string& fallback) {
    const std::string given = r.get_string(key, fallback);
    const bool is_path = given.find('/') != std::string::npos || given.ends_with(".json");
    const std::string profile = is_path && r.has(key) ? r.resolve(given, key) : given;
    try {
        energy_profile_from(profile);
    } catch (const error& err) {
        r.fail(key, given, std::string("not usable: ") + err.what());
    }
    return profile;
}

std::string read_sim_backend(json_reader& r, const std::string& key) {
    const std::string name = r.get_string(key, "cpu");
    if (const std::string why = sim_backend_absence(name); !why.empty()) {
        std::string choices;
        for (const auto& n : sim_backend_names()) choices += (choices.empty() ? "\"" : ", \"") + n + "\"";
        r.fail(key, name, "not available here (" + why + "), expected one of " + choices);
    }
    return r.get_string(key, "cpu", sim_backend_names());  // an unknown name: the choices
}

std::string read_data_dir(json_reader& r) {
    return r.get_path("data_dir", default_data_dir());
}

}  // namespace wtasim
