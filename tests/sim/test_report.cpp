// The energy report of a simulated run: totals are the sums of the layers, the paper convention is
// 4.6 pJ x MAC + 0.9 pJ x AC, the ANN twin is counted the same way, NeuroBench keys are present with
// attention reported separately.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>

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

TEST_CASE("report: provenance, task, units per table, parts and per-step rates; figures downloadable as drawn") {
    const checkpoint c = test::fresh_checkpoint(
        R"({"vocab": 30, "d_model": 16, "heads": 2, "d_ff": 32, "layers": 2, "T": 3, "max_len": 8})", 3, 1.0f);
    const sim_network net = sim_network::from_checkpoint(c, "mem");
    const std::vector<std::vector<std::int32_t>> seqs = {{1, 4, 9, 16, 25}, {2, 3, 5}};
    std::vector<sim_result> results;
    for (const auto& q : seqs) results.push_back(simulate(net, q));
    // the engine's per-step events add up to each layer's events
    for (const auto& l : results[0].layers) {
        std::uint64_t sum = 0;
        for (auto e : l.step_events) sum += e;
        CHECK(sum == l.events);
        if (l.neurons) CHECK(l.step_events.size() == 3);
    }
    energy_inputs in = simulated_energy(c, net.cfg, seqs, results);
    op_counts parts;
    for (const auto& [name, ops] : in.ann_parts) parts += ops;
    CHECK(parts == ann_twin_counts(net.cfg, seqs));
    CHECK(in.ann_parts.size() == 4);  // embed, 2 blocks, head
    CHECK(report_part("blocks.1.attn.q") == "blocks.1");
    CHECK(report_part("sn_final") == "head");
    in.examples = 2;
    in.provenance = {"m.h5", "s.json", "wtasim task", "2026-01-01T00:00:00Z"};
    in.has_task = true;
    in.task = {"sst2", "accuracy", 0.75, std::nan(""), 0.5, 2};
    const std::vector<std::string> pieces(30, "w");
    in.raster = raster_of(simulate(net, seqs[0], true), seqs[0], pieces, 3);
    CHECK(!in.raster.layer.empty());
    const energy_profile profile = shipped_energy_profile("horowitz45-fp32");

    const auto j = nlohmann::json::parse(energy_report_json(in, profile));
    CHECK(j["provenance"]["checkpoint"] == "m.h5");
    CHECK(j["provenance"]["wtasim_version"] == WTASIM_VERSION);
    CHECK(j["provenance"]["profile_source"] == profile.source);
    CHECK(j["task"]["score"] == 0.75);
    CHECK(j["task"]["ann_twin_score"].is_null());
    CHECK(j["energy_per_example_pj"]["full_profile"].get<double>() ==
          doctest::Approx(j["energy_pj"]["full_profile"].get<double>() / 2));
    CHECK(j["ann_twin"]["parts"].size() == 4);

    // every Markdown table names one unit in its first header cell, and its cells are bare numbers
    const std::string md = energy_report_markdown(in, profile);
    CHECK(md.find("Task **sst2**, accuracy on 2 examples") != std::string::npos);
    CHECK(md.find("Checkpoint `m.h5`") != std::string::npos);
    std::size_t tables = 0;
    for (std::size_t at = md.find("\n| "); at != std::string::npos; at = md.find("\n| ", at + 1)) {
        const std::size_t end = md.find('\n', at + 1);
        const std::string row = md.substr(at + 1, end - at - 1);
        if (md.compare(end + 1, 4, "|---") == 0) {  // a header row
            ++tables;
            const std::string first = row.substr(2, row.find(" |", 2) - 2);
            CAPTURE(first);
            const bool one_unit = first.find("(nJ)") != std::string::npos ||
                                  first.find("(count)") != std::string::npos ||
                                  first.find("(energy ratio)") != std::string::npos;
            CHECK(one_unit);
        } else if (row.starts_with("| ") && !row.starts_with("|---")) {  // cells after the label: numbers only
            CAPTURE(row);
            for (std::size_t k = row.find(" | ", 2); k != std::string::npos; k = row.find(" | ", k + 1)) {
                const std::string cell = row.substr(k + 3, row.find(" |", k + 3) - k - 3);
                char* stop = nullptr;
                std::strtod(cell.c_str(), &stop);
                CHECK((cell == "—" || (!cell.empty() && *stop == '\0')));
            }
        }
    }
    CHECK(tables == 6);

    const std::string html = energy_report_html(in, profile);
    for (const char* what : {"snn-vs-ann-by-part", "energy-by-layer", "operation-mix", "firing-rate-per-layer",
                             "firing-rate-per-step", "spike-raster", "energy (nJ), profile horowitz45-fp32",
                             "time step t", "neuron", "ANN twin (dense)", "created (UTC)", "sst2"})
        CHECK_MESSAGE(html.find(what) != std::string::npos, what);
    // each download link carries the figure exactly as drawn inline
    std::size_t figures = 0;
    for (std::size_t at = html.find("<figure"); at != std::string::npos; at = html.find("<figure", at + 1)) {
        const std::size_t svg0 = html.find("<svg", at), svg1 = html.find("</svg>\n", svg0) + 7;
        const std::string inline_svg = html.substr(svg0, svg1 - svg0);
        const std::string key = "base64,";
        const std::size_t b0 = html.find(key, svg1) + key.size(), b1 = html.find('"', b0);
        CHECK(test::base64_decode(html.substr(b0, b1 - b0)) == inline_svg);
        ++figures;
    }
    CHECK(figures == 6);
    // the raster draws one mark per event kept
    const std::size_t r0 = html.find("<path fill=\"#222\" d=\""), r1 = html.find("\"/>", r0);
    std::size_t marks = 0;
    for (std::size_t at = html.find('M', r0); at < r1; at = html.find('M', at + 1)) ++marks;
    CHECK(marks == in.raster.step.size());
}

TEST_CASE("report: the creation time honours SOURCE_DATE_EPOCH") {
    ::setenv("SOURCE_DATE_EPOCH", "86461", 1);
    CHECK(report_timestamp() == "1970-01-02T00:01:01Z");
    ::unsetenv("SOURCE_DATE_EPOCH");
    CHECK(report_timestamp().size() == 20);
}
