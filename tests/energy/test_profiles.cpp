// Energy profiles: the shipped ones load and carry the costs docs/model.md §7 fixes; broken files give one
// clear error that names the file, the JSON path and the value.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.hpp"
#include "energy/profile.hpp"

using namespace wtasim;

namespace {
std::string write_temp(const std::string& name, const std::string& text) {
    const auto path = std::filesystem::temp_directory_path() / ("wtasim_test_" + name + ".json");
    std::ofstream(path) << text;
    return path.string();
}
std::string error_of(const std::string& path) {
    try {
        load_energy_profile(path);
    } catch (const error& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST_CASE("energy: shipped Horowitz 45 nm profiles carry the published AC and MAC costs (docs/model.md §7)") {
    struct expected {
        const char* name;
        double mac, ac;
    };
    for (auto e : {expected{"horowitz45-fp32", 4.6, 0.9}, expected{"horowitz45-fp16", 1.5, 0.4},
                   expected{"horowitz45-int8", 0.23, 0.03}}) {
        const energy_profile p = shipped_energy_profile(e.name);
        CHECK(p.name == e.name);
        CHECK(p.source.find("Horowitz") != std::string::npos);
        CHECK(p.cost(op_class::mac) == doctest::Approx(e.mac));
        CHECK(p.cost(op_class::ac) == doctest::Approx(e.ac));
        for (const auto& why : p.justification) CHECK_FALSE(why.empty());
    }
}

TEST_CASE("energy: totals are count x cost summed over classes; the paper convention uses MAC and AC only") {
    const energy_profile p = shipped_energy_profile("horowitz45-fp32");
    op_counts c;
    c.add(op_class::ac, 1000);
    c.add(op_class::mac, 10);
    c.add(op_class::nu, 100);
    const double expected = 1000 * p.cost(op_class::ac) + 10 * p.cost(op_class::mac) + 100 * p.cost(op_class::nu);
    CHECK(p.energy_pj(c) == doctest::Approx(expected));
    CHECK(paper_convention_energy_pj(c) == doctest::Approx(1000 * 0.9 + 10 * 4.6));
    op_counts d = c + c;
    CHECK(d[op_class::ac] == 2000);
}

TEST_CASE("energy: broken profiles name the file, the JSON path and the value") {
    CHECK(error_of("/nonexistent/p.json").find("/nonexistent/p.json: cannot open") == 0);
    const std::string ok_costs =
        R"("costs_pj": {"AC": 1, "MAC": 1, "CMP": 1, "NU": 1, "EXP": 1, "DIV": 1, "MEM_R": 1, "MEM_W": 1})";
    const std::string ok_why =
        R"("justification": {"AC": "a", "MAC": "a", "CMP": "a", "NU": "a", "EXP": "a", "DIV": "a", "MEM_R": "a", "MEM_W": "a"})";
    const std::string head = R"({"name": "x", "source": "y", )";
    CHECK(error_of(write_temp("good", head + ok_costs + ", " + ok_why + "}")).empty());
    const std::string neg = write_temp(
        "neg",
        head + R"("costs_pj": {"AC": -1, "MAC": 1, "CMP": 1, "NU": 1, "EXP": 1, "DIV": 1, "MEM_R": 1, "MEM_W": 1}, )" +
            ok_why + "}");
    CHECK(error_of(neg) == neg + ": /costs_pj/AC = -1, expected a finite number >= 0 (picojoules)");
    const std::string unknown = write_temp("unknown", head + R"("costs_pj": {"FLOP": 2}, )" + ok_why + "}");
    CHECK(error_of(unknown).find(unknown + ": /costs_pj/FLOP = 2, operation class \"FLOP\" is unknown") == 0);
    const std::string extra = write_temp("extra", head + ok_costs + ", " + ok_why + R"(, "colour": "red"})");
    CHECK(error_of(extra) ==
          extra + ": /colour = \"red\", unknown key, expected name, source, costs_pj, justification");
    const std::string missing = write_temp("missing", head + R"("costs_pj": {"AC": 1}, )" + ok_why + "}");
    CHECK(error_of(missing) == missing + ": /costs_pj/MAC = null, missing, every operation class needs a cost");
    const std::string bad_json = write_temp("badjson", "{");
    CHECK(error_of(bad_json).find(bad_json + ": not valid JSON") == 0);
}

TEST_CASE("energy: the embedded profiles are the files in energy/profiles, and unknown names are refused") {
    for (const char* name : {"horowitz45-fp32", "horowitz45-fp16", "horowitz45-int8"}) {
        const energy_profile embedded = shipped_energy_profile(name);
        const energy_profile file =
            load_energy_profile(std::string(WTASIM_SOURCE_DIR "/energy/profiles/") + name + ".json");
        CHECK(embedded.cost_pj == file.cost_pj);
        CHECK(embedded.justification == file.justification);
        CHECK(energy_profile_from(name).name == name);
    }
    CHECK_THROWS_WITH_AS(shipped_energy_profile("horowitz7"),
                         "energy profile \"horowitz7\" is not shipped, expected one of horowitz45-fp16, "
                         "horowitz45-fp32, horowitz45-int8 or the path of a profile JSON file",
                         config_error);
    CHECK_THROWS_AS(energy_profile_from("no/such/profile.json"), io_error);
}
