// The energy report of a simulated run: totals are the sums of the layers, the paper convention is
// 4.6 pJ x MAC + 0.9 pJ x AC, the ANN twin is counted the same way, NeuroBench keys are present with
// attention reported separately.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/rng.hpp"
#include "energy/report.hpp"
#include "helpers.hpp"
#include "sim/engine.hpp"
#include "sim/report_inputs.hpp"
#include "training/language_model.hpp"

using namespace wtasim;

TEST_CASE("report: totals, paper convention, ANN ratio and NeuroBench keys from a simulated run") {
    const checkpoint c = test::fresh_checkpoint(
        R"({"vocab": 30, "d_model": 16, "heads": 2, "d_ff": 32, "layers": 1, "T": 2, "max_len": 8})", 3, 1.0f);
    const sim_network net = sim_network::from_checkpoint(c, "mem");
    const sim_result r = simulate(net, {1, 4, 9, 16, 25});
    energy_inputs in;
    in.model = "test";
    in.tokens = 5;
    in.footprint_bytes = 1234;
    in.dense_synaptic_ops = 999;
    op_counts total;
    for (const auto& l : r.layers) {
        in.layers.push_back({l.name, l.ops, l.events, l.neurons, l.active, l.name.ends_with("attn.select")});
        total += l.ops;
    }
    CHECK(total == r.total);
    in.ann.add(op_class::mac, 1000);
    in.ann.add(op_class::ac, 100);
    const energy_profile profile = shipped_energy_profile("horowitz45-fp32");
    const auto j = nlohmann::json::parse(energy_report_json(in, profile));
    const double paper = 4.6 * double(total[op_class::mac]) + 0.9 * double(total[op_class::ac]);
    CHECK(j["energy_pj"]["paper_convention"].get<double>() == doctest::Approx(paper));
    CHECK(j["energy_pj"]["full_profile"].get<double>() == doctest::Approx(profile.energy_pj(total)));
    CHECK(j["energy_per_token_pj"]["full_profile"].get<double>() == doctest::Approx(profile.energy_pj(total) / 5));
    CHECK(j["ann_twin"]["energy_pj"]["paper_convention"].get<double>() == doctest::Approx(4600 + 90));
    CHECK(j["ann_twin"]["ratio_snn_to_ann"]["paper_convention"].get<double>() == doctest::Approx(paper / 4690));
    const auto& nb = j["neurobench"];
    CHECK(nb["Footprint"] == 1234);
    CHECK(nb["SynapticOperations"]["Dense"] == 999);
    CHECK(nb["MembraneUpdates"] == total[op_class::nu]);
    op_counts attention;
    for (const auto& l : in.layers)
        if (l.attention) attention += l.ops;
    CHECK(attention[op_class::cmp] > 0);
    CHECK(nb["AttentionOperations"]["CMP"] == attention[op_class::cmp]);
    CHECK(nb["SynapticOperations"]["Effective_ACs"] == total[op_class::ac] - attention[op_class::ac]);
    const double rate = nb["ActivationSparsity"];
    CHECK(rate > 0.0);
    CHECK(rate < 1.0);
    CHECK(j["layers"].size() == r.layers.size());
    CHECK(energy_report_markdown(in, profile).find("| SNN |") != std::string::npos);
}

TEST_CASE("report inputs: the ANN twin's counts from sizes equal its own dense forward's, every head") {
    // The report counts the twin from the sizes and tokens alone (sim/report_inputs.hpp); the trainer's twin
    // counts the operations of the forward it actually runs. They must agree exactly.
    const std::vector<std::vector<std::int32_t>> seqs = {{1, 4, 9, 16, 25}, {2, 3}, {7, 7, 7, 1, 2, 3, 4}};
    for (const char* model :
         {R"({"causal": true})", R"({"causal": false})", R"({"causal": false, "task": {"name": "cls", "outputs": 3}})",
          R"({"causal": true, "task": {"name": "tag", "outputs": 5, "readout": "token"}})"}) {
        CAPTURE(model);
        nlohmann::json j = nlohmann::json::parse(model);
        j.update({{"vocab", 30}, {"d_model", 16}, {"heads", 2}, {"d_ff", 24}, {"layers", 2}, {"T", 2}, {"max_len", 8}});
        const model_config spiking = model_config::from_json(j.dump());
        model_config ann = spiking;
        ann.spiking = false;
        ann.T = 1;
        language_model twin(ann);
        twin.init(5);
        op_counts dense;
        for (const auto& s : seqs) {
            if (ann.task.empty()) {
                std::vector<float> logits(s.size() * ann.vocab);
                twin.forward(logits.data(), s.data(), 1, s.size(), {}, false);
            } else {
                std::vector<float> out(twin.task_rows(1, s.size()) * ann.task_outputs);
                twin.forward_task(out.data(), s.data(), 1, s.size(), {}, false);
            }
            dense += twin.counts();
        }
        CHECK(dense[op_class::mac] > 0);
        CHECK(ann_twin_counts(spiking, seqs) == dense);
    }
}
