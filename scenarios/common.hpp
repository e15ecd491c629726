// What every scenario file shares (train, run, task and suite scenarios; docs/scenarios.md): one parse with
// errors that name the file, a top-level reader that rejects unknown keys and resolves every relative path
// written in the file against the file's own folder (so a scenario runs the same from any working
// directory), and the keys that several schemas have: the energy profile and the corpus folder.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/json_reader.hpp"

namespace wtasim {

struct scenario_text {
    nlohmann::json root;
    std::string origin;  // the file as the user named it (messages name it so)
    std::string json;    // the JSON as given, compact (stored in checkpoints, traces and reports)
};

scenario_text parse_scenario(const std::string& text, const std::string& origin);
// The reader of the top-level object; paths resolve against the folder of `t.origin`. `t` must outlive it.
json_reader scenario_root(const scenario_text& t);

// `key` of `r`: a shipped energy profile's name or a profile JSON file (a path, resolved like every path of
// the file); an unusable one is an error naming the key. Returns the name or the resolved path.
std::string read_energy_profile(json_reader& r, const std::string& key, const std::string& fallback);
// `data_dir` of `r` (the folder holding raw/), resolved; default training/corpus.hpp default_data_dir().
std::string read_data_dir(json_reader& r);
// `key` of `r`: a simulator backend this build can run here (sim/engine.hpp); an unknown or unavailable one
// is an error naming the key, the value, why it is absent (no CUDA, no GPU) and the choices.
std::string read_sim_backend(json_reader& r, const std::string& key);

}  // namespace wtasim
