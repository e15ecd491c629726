// Traces: written for several model kinds by the CTest fixture (checked independently by check_trace.py
// with h5py), and read back by wtasim's own summary.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "helpers.hpp"
#include "sim/trace.hpp"

using namespace wtasim;

namespace {
// A model with firing layers, its checkpoint at <dir>/<name>.h5 and its trace at <dir>/<name>.trace.h5.
void write_pair(const std::string& dir, const std::string& name, const std::string& model_json) {
    const checkpoint c = test::fresh_checkpoint(model_json, 31, 0.75f);
    save_checkpoint(dir + "/" + name + ".h5", c);
    const sim_network net = sim_network::from_checkpoint(c, name);
    const std::vector<std::vector<std::int32_t>> seqs{{1, 7, 3, 9, 2, 8}, {4, 4, 5}};
    std::vector<sim_result> results;
    for (const auto& s : seqs) results.push_back(simulate(net, s, true, true));  // with membranes
    write_trace(dir + "/" + name + ".trace.h5", net, seqs, results, R"({"test": ")" + name + "\"}");
}
const char* base = R"("vocab": 20, "d_model": 16, "heads": 2, "d_ff": 32, "layers": 2, "T": 3, "max_len": 8)";
}  // namespace

TEST_CASE("trace fixture: write traces of WTA, NI-LIF, SSA and softmax models") {
    const char* out = std::getenv("WTASIM_FIXTURE_DIR");
    if (!out) return;  // only as the CTest fixture
    std::filesystem::create_directories(out);
    write_pair(out, "wd_lif_wta2",
               std::string("{") + base + R"(, "causal": true, "attention": {"kind": "wta", "k": 2}})");
    write_pair(out, "we_nilif_wta", std::string("{") + base + R"(, "causal": false, "neuron": "nilif"})");
    write_pair(out, "wd_lif_ssa",
               std::string("{") + base + R"(, "causal": true, "attention": {"kind": "ssa", "v_th_attn": 0.125}})");
    write_pair(out, "wd_lif_wta_shift",
               std::string("{") + base + R"(, "causal": true, "attention": {"kind": "wta", "recency": "shift"}})");
    write_pair(out, "wd_lif_wta_bias_fill",
               std::string("{") + base +
                   R"(, "causal": true, "attention": {"kind": "wta", "k": 2,
                                                "recency": "bias", "bias": [2, 1], "fill": true}})");
    write_pair(out, "wd_lif_wta_vthqk",
               std::string("{") + base + R"(, "causal": true, "attention": {"kind": "wta", "v_th_qk": 0.5}})");
    write_pair(out, "wd_lif_levels", std::string("{") + base + R"(, "causal": true, "readout": "levels"})");
    write_pair(out, "we_nilif_residual",
               std::string("{") + base + R"(, "causal": false, "neuron": "nilif", "readout": "residual"})");
    write_pair(out, "wd_lif_rms", std::string("{") + base + R"(, "causal": true, "norm": "running-rms"})");
    write_pair(out, "we_nilif_none",
               std::string("{") + base + R"(, "causal": false, "neuron": "nilif", "norm": "none"})");
    write_pair(out, "wd_lif_learned",
               std::string("{") + base + R"(, "causal": true, "attention": {"kind": "wta", "k": 2},
                   "lif": {"learn_tau": "channel", "learn_v_th": "channel"}})");
    write_pair(out, "we_nilif_learned", std::string("{") + base + R"(, "causal": false, "neuron": "nilif",
                   "lif": {"learn_tau": "layer", "learn_v_th": "channel", "reset": "soft"}})");
    write_pair(out, "we_lif_softmax",
               std::string("{") + base + R"(, "causal": false, "attention": {"kind": "softmax", "v_th_attn": 0.25}})");
}

TEST_CASE("trace: the summary reads a trace back; a checkpoint is not a trace") {
    const std::string dir = (std::filesystem::temp_directory_path() / "wtasim_trace_test").string();
    std::filesystem::create_directories(dir);
    write_pair(dir, "t", std::string("{") + base + R"(, "causal": true})");
    std::ostringstream out;
    print_trace_summary(dir + "/t.trace.h5", out);
    CHECK(out.str().find("2 sequence(s)") != std::string::npos);
    CHECK(out.str().find("blocks.1.mlp.sn_h") != std::string::npos);
    CHECK(out.str().find("raster of") != std::string::npos);
    CHECK(out.str().find("queries without a winner") != std::string::npos);
    // with the recency bonus and fill every query has a winner (check_trace.py recomputes the fractions)
    write_pair(dir, "f",
               std::string("{") + base +
                   R"(, "causal": true, "attention": {"kind": "wta", "recency": "bias", "fill": true}})");
    std::ostringstream filled;
    print_trace_summary(dir + "/f.trace.h5", filled);
    CHECK(filled.str().find("queries without a winner (all kept sequences): blocks.0 0.0000 blocks.1 0.0000") !=
          std::string::npos);
    CHECK_THROWS_AS(print_trace_summary(dir + "/t.h5", out), io_error);
    std::filesystem::remove_all(dir);
}
