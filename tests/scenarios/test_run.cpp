// Run scenarios: the documented schema, and one clear error naming file, JSON path, value and expectation
// for unknown keys, wrong types, out-of-range values and missing files.
#include <doctest/doctest.h>

#include "sim/engine.hpp"

#include "core/error.hpp"
#include "scenarios/run.hpp"

using namespace wtasim;

namespace {
const std::string model = WTASIM_SOURCE_DIR "/models/wd-kjv-small.h5";

std::string error_of(const std::string& json) {
    try {
        run_scenario::from_json(json, "s.json");
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}
std::string with_model(const std::string& rest) {
    return R"({"model": {"checkpoint": ")" + model + "\"}" + (rest.empty() ? "" : ", " + rest) + "}";
}
}  // namespace

TEST_CASE("run scenario: a complete scenario loads with every field") {
    const run_scenario s = run_scenario::from_json(
        with_model(
            R"("input": {"corpus": "kjv", "split": "test", "sequences": 3, "seq_len": 16}, "backend": "reference",
            "threads": 2, "energy": {"profile": "horowitz45-fp16"}, "trace": {"path": "t.h5"},
            "report": {"json": "r.json", "markdown": "r.md", "html": "r.html"})"),
        "s.json");
    CHECK(s.corpus == "kjv");
    CHECK(s.split == "test");
    CHECK(s.sequences == 3);
    CHECK(s.seq_len == 16);
    CHECK(s.backend == "reference");
    CHECK(s.profile == "horowitz45-fp16");
    CHECK(s.report_html == "r.html");
    CHECK(run_scenario::from_json(with_model(R"("input": {"text": "hi"})"), "s.json").text == "hi");
}

TEST_CASE("run scenario: broken scenarios name the file, the JSON path, the value and what was expected") {
    CHECK(error_of(R"({"input": {"text": "x"}})") ==
          "s.json: /model/checkpoint = null, missing: the trained spiking checkpoint to run (HDF5)");
    CHECK(error_of(R"({"model": {"checkpoint": "/no/model.h5"}, "input": {"text": "x"}})") ==
          "s.json: /model/checkpoint = \"/no/model.h5\", no such file");
    CHECK(error_of(with_model(R"("input": {"text": "x"}, "colour": 1)")).find("s.json: /colour = 1, unknown key") == 0);
    CHECK(error_of(with_model(R"("input": {"text": "x", "generate": -1})")) ==
          "s.json: /input/generate = -1, expected a non-negative integer");
    CHECK(error_of(with_model(R"("input": {"text": "x", "generate": 5000})")) ==
          "s.json: /input/generate = 5000, must be <= 4096");
    CHECK(error_of(with_model(R"("input": {"corpus": "wiki"})")) ==
          "s.json: /input/corpus = \"wiki\", expected one of \"kjv\", \"brown\", \"spam-assassin\"");
    CHECK(error_of(with_model(R"("input": {"text": "x", "corpus": "kjv"})"))
              .find("s.json: /input/corpus = \"kjv\", give exactly one") == 0);
    CHECK(error_of(with_model(R"("input": {"text": "x"}, "backend": "gpu")")) ==
          "s.json: /backend = \"gpu\", expected one of \"reference\", \"cpu\", \"emulated\"");
    if (!sim_backend_absence("cuda").empty())  // a build or machine without a GPU says why
        CHECK(error_of(with_model(R"("input": {"text": "x"}, "backend": "cuda")"))
                  .find("s.json: /backend = \"cuda\", not available here (") == 0);
    CHECK(error_of(with_model(R"("input": {"text": "x"}, "threads": "two")")) ==
          "s.json: /threads = \"two\", expected a non-negative integer");
    CHECK(error_of(with_model(R"("input": {"text": "x"}, "energy": {"profile": "/no/profile.json"})"))
              .find("s.json: /energy/profile = \"/no/profile.json\", not usable:") == 0);
    CHECK(error_of(with_model(R"("input": {"text": "x"}, "report": {"pdf": "r.pdf"})")).find("s.json: /report/pdf") ==
          0);
    CHECK(error_of(with_model(R"("input": {"text": "x"}, "trace": {"layers": ["sn_final"]})")) ==
          "s.json: /trace/path = null, missing: sequences, layers and membranes choose what the trace at this path "
          "keeps");
    CHECK(error_of(with_model(R"("input": {"text": "x"}, "trace": {"path": "t.h5", "layers": ["a", 3]})")) ==
          "s.json: /trace/layers/1 = 3, expected a string");
    CHECK(error_of(with_model(R"("input": {"text": "x"}, "trace": {"path": "t.h5", "sequences": [-1]})")) ==
          "s.json: /trace/sequences/0 = -1, expected a non-negative integer");
    CHECK(error_of(with_model(R"("input": {"text": "x"}, "T": 100)")) == "s.json: /T = 100, must be <= 64");
    CHECK(error_of(with_model(R"("input": {"text": "x"}, "batch": 1.5)")) ==
          "s.json: /batch = 1.5, expected a non-negative integer");
    CHECK(error_of("[1, 2]") == "s.json: / = [1,2], expected an object");
    CHECK(error_of("{\"model\": ").find("s.json: not valid JSON") == 0);
}
