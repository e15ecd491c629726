// The trainer end to end on real text (KJV chapters): a run interrupted and resumed gives exactly the
// loss curve and the weights of an uninterrupted run (plain, and distilling from a teacher trained first); the
// scenario's errors name the file and JSON path; the checkpoint evaluates to what training reported.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "model/checkpoint.hpp"
#include "scenarios/train.hpp"
#include "training/trainer.hpp"

using namespace wtasim;
namespace fs = std::filesystem;

namespace {
// `model` and `train` add keys to those objects (each starting with a comma); `tokenizer` replaces the object.
train_scenario tiny(const std::string& output, const std::string& objective = "clm", bool causal = true,
                    const std::string& model = R"(, "T": 2)", const std::string& train = "",
                    const std::string& tokenizer = R"({"vocab_size": 200})", std::size_t d_model = 16) {
    const std::string json = R"({"model": {"d_model": )" + std::to_string(d_model) +
                             R"(, "heads": 2, "d_ff": 32, "layers": 1, "max_len": 16, "causal": )" +
                             std::string(causal ? "true" : "false") + model +
                             R"(}, "data": {"corpus": "kjv", "max_documents": 60, "data_dir": ")" WTASIM_SOURCE_DIR
                             R"(/data"}, "tokenizer": )" +
                             tokenizer + R"(,
        "train": {"objective": ")" +
                             objective +
                             R"(", "steps": 8, "batch": 3, "seq_len": 12, "lr": 0.01, "warmup": 2, "log_every": 1,
                  "eval_every": 4, "eval_batches": 2, "checkpoint_every": 2, "seed": 3)" +
                             train + R"(},
        "output": ")" + output +
                             "\"}";
    return parse_train_scenario(json, "tiny.json");
}

std::vector<std::string> lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    std::string l;
    while (std::getline(in, l)) out.push_back(l);
    return out;
}

// The metrics without the wall-clock fields (tokens_per_s, the teacher's time), which legitimately differ between
// runs.
std::vector<std::string> curve(const std::string& path) {
    std::vector<std::string> out;
    for (const std::string& l : lines(path)) {
        nlohmann::json j = nlohmann::json::parse(l);
        for (const char* key : {"tokens_per_s", "teacher_seconds", "teacher_fraction"}) j.erase(key);
        out.push_back(j.dump());
    }
    return out;
}
}  // namespace

TEST_CASE("trainer: stop and --resume reproduce an uninterrupted run bit for bit (CLM and MLM)") {
    const fs::path dir = fs::temp_directory_path() / "wtasim_trainer_test";
    fs::remove_all(dir);
    for (auto [objective, causal] : {std::pair{"clm", true}, std::pair{"mlm", false}}) {
        CAPTURE(objective);
        const std::string whole = (dir / (std::string(objective) + "_whole")).string(),
                          parts = (dir / (std::string(objective) + "_parts")).string();
        std::ostringstream log;
        const eval_result full = train(tiny(whole, objective, causal), {}, log);
        train_options o;
        o.stop_after = 3;  // stops after step 3; the last checkpoint is at step 2
        train(tiny(parts, objective, causal), o, log);
        o.stop_after = 0;
        o.resume = true;
        const eval_result resumed = train(tiny(parts, objective, causal), o, log);
        CHECK(log.str().find("resumed from") != std::string::npos);
        CHECK(resumed.loss == full.loss);
        CHECK(curve(parts + "/metrics.jsonl") == curve(whole + "/metrics.jsonl"));
        const checkpoint a = load_checkpoint(whole + "/checkpoint.h5"), b = load_checkpoint(parts + "/checkpoint.h5");
        REQUIRE(a.params.size() == b.params.size());
        for (const auto& [name, t] : a.params) {
            CAPTURE(name);
            CHECK(b.params.at(name).values() == t.values());
        }
        CHECK(a.optimizer.at("t").values() == b.optimizer.at("t").values());
        // the checkpoint evaluates to the last reported validation result
        std::ostringstream elog;
        CHECK(evaluate_checkpoint_file(whole + "/checkpoint.h5", "valid", 2, elog).loss == doctest::Approx(full.loss));
        // training did something: the loss of the last logged step is below the first one's
        const auto metric_lines = lines(whole + "/metrics.jsonl");
        CHECK(metric_lines.size() >= 10);
        auto loss_at = [](const std::string& l) { return std::stod(l.substr(l.find("\"loss\":") + 7)); };
        CHECK(loss_at(metric_lines.back().find("\"split\"") == std::string::npos
                          ? metric_lines.back()
                          : metric_lines[metric_lines.size() - 2]) < loss_at(metric_lines.front()));
    }
    fs::remove_all(dir);
}

TEST_CASE("trainer: scenario errors name the file, the JSON path and the value") {
    auto error_of = [](const std::string& json) {
        try {
            parse_train_scenario(json, "s.json");
        } catch (const config_error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK(error_of(R"({"train": {"steps": 0}})") == "s.json: /train/steps = 0, must be >= 1");
    CHECK(error_of(R"({"data": {"corpus": "wiki"}})") ==
          "s.json: /data/corpus = \"wiki\", expected one of \"kjv\", \"brown\", \"spam-assassin\"");
    CHECK(error_of(R"({"data": {"path": "/no/such.txt"}})") == "s.json: /data/path = \"/no/such.txt\", no such file");
    CHECK(error_of(R"({"model": {"causal": false}, "train": {"objective": "clm"}})")
              .find("s.json: /train/objective = \"clm\", needs a causal model") == 0);
    CHECK(error_of(R"({"model": {"max_len": 16}, "train": {"seq_len": 64}})") ==
          "s.json: /train/seq_len = 64, must be <= 16");
    CHECK(error_of(R"({"outptu": "x"})").find("s.json: /outptu = \"x\", unknown key") == 0);
    CHECK(error_of(R"({"model": []})") == "s.json: /model = [], expected an object");
}

TEST_CASE("trainer: a new spiking model gets the recipe defaults; stored configs and explicit keys keep theirs") {
    auto model_of = [](const std::string& model) {
        return parse_train_scenario(R"({"model": )" + model + "}", "s.json").model;
    };
    const model_config wta = model_of("{}");
    CHECK(wta.readout == "residual");
    CHECK(wta.block.attn.shift);
    REQUIRE(wta.block.attn.bias_len == 2);
    CHECK(wta.block.attn.bias[0] == 2);
    CHECK(wta.block.attn.bias[1] == 1);
    CHECK(wta.block.attn.fill);
    // what the user writes wins, key by key
    const model_config plain = model_of(R"({"readout": "spikes", "attention": {"recency": "none"}})");
    CHECK(plain.readout == "spikes");
    CHECK(!plain.block.attn.shift);
    CHECK(plain.block.attn.bias_len == 0);
    CHECK(model_of(R"({"attention": {"bias": [3]}})").block.attn.bias[0] == 3);
    // the bonus is WTA's: SSA and softmax attention get the readout only; the ANN twin gets nothing
    const model_config ssa = model_of(R"({"attention": {"kind": "ssa"}})");
    CHECK(ssa.readout == "residual");
    CHECK(!ssa.block.attn.shift);
    CHECK(model_of(R"({"spiking": false})").readout == "spikes");
    // a stored config keeps the format's defaults, and the recipe's keys round-trip explicitly
    const model_config stored = model_config::from_json(R"({"vocab": 11})", "ckpt.h5", "@config");
    CHECK(stored.readout == "spikes");
    CHECK(!stored.block.attn.shift);
    const model_config sized = model_of(R"({"vocab": 11})");
    CHECK(model_config::from_json(sized.to_json()).to_json() == sized.to_json());
    CHECK(model_config::from_json(sized.to_json(), "ckpt.h5", "@config").readout == "residual");
    CHECK(model_config::from_json(sized.to_json(), "ckpt.h5", "@config").block.attn.fill);
}

TEST_CASE("trainer: n-gram baselines on the validation split — bigram beats unigram beats uniform") {
    std::ostringstream log;
    const ngram_baselines b = baselines(tiny("unused"), log);
    CHECK(b.unigram.tokens > 100);
    CHECK(b.unigram.perplexity < 200.0);  // uniform over the 200-piece vocabulary
    CHECK(b.bigram.perplexity < b.unigram.perplexity);
    CHECK(b.bigram.bits_per_byte > 0.5);
    CHECK(log.str().find("baseline bigram") != std::string::npos);
}

TEST_CASE(
    "trainer: distillation from a 3-step teacher trains, checkpoints, resumes bit for bit, and checks the teacher") {
    const fs::path dir = fs::temp_directory_path() / "wtasim_trainer_distill_test";
    fs::remove_all(dir);
    std::ostringstream log;
    // the teacher: an ANN twin of the student's width and depth, 3 steps
    train_scenario ts = tiny((dir / "teacher").string(), "clm", true, R"(, "T": 1, "spiking": false)");
    ts.steps = ts.opt.total = 3;
    train(ts, {}, log);
    const std::string teacher = (dir / "teacher" / "checkpoint.h5").string();
    const std::string distill =
        R"(, "distill": {"teacher": ")" + teacher + R"(", "weight": 0.5, "temperature": 2.0, "hidden_weight": 0.1})";
    const std::string from_teacher = R"({"from": ")" + teacher + "\"}";
    auto student = [&](const std::string& out) {
        return tiny((dir / out).string(), "clm", true, R"(, "T": 2)", distill, from_teacher);
    };
    const eval_result full = train(student("whole"), {}, log);
    CHECK(log.str().find("distill: teacher " + teacher + " (ANN twin, D 16, L 1, step 3)") != std::string::npos);
    train_options o;
    o.stop_after = 3;
    train(student("parts"), o, log);
    o.stop_after = 0;
    o.resume = true;
    const eval_result resumed = train(student("parts"), o, log);
    CHECK(resumed.loss == full.loss);
    const std::string whole = (dir / "whole").string(), parts = (dir / "parts").string();
    CHECK(curve(parts + "/metrics.jsonl") == curve(whole + "/metrics.jsonl"));
    const checkpoint a = load_checkpoint(whole + "/checkpoint.h5"), b = load_checkpoint(parts + "/checkpoint.h5");
    REQUIRE(a.params.size() == b.params.size());
    for (const auto& [name, t] : a.params) {
        CAPTURE(name);
        CHECK(b.params.at(name).values() == t.values());
    }
    // the metrics carry the distillation terms and the teacher's time; the checkpoint names the teacher
    const auto first = nlohmann::json::parse(lines(whole + "/metrics.jsonl").front());
    CHECK(first.at("distill_kl").get<double>() > 0.0);
    CHECK(first.at("distill_hidden").get<double>() > 0.0);
    CHECK(first.at("teacher_seconds").get<double>() > 0.0);
    CHECK(first.at("teacher_fraction").get<double>() < 1.0);
    const double objective = 0.5 * first.at("loss").get<double>() + 0.5 * first.at("distill_kl").get<double>() +
                             0.1 * first.at("distill_hidden").get<double>();
    CHECK(first.at("objective").get<double>() == doctest::Approx(objective));
    CHECK(nlohmann::json::parse(a.rng).at("distill").at("teacher") == fs::absolute(teacher).string());
    // without the distill key nothing changes: the plain student differs from the distilled one
    const eval_result plain =
        train(tiny((dir / "plain").string(), "clm", true, R"(, "T": 2)", "", from_teacher), {}, log);
    CHECK(plain.loss != full.loss);
    CHECK(nlohmann::json::parse(lines(dir.string() + "/plain/metrics.jsonl").front()).count("distill_kl") == 0);

    // a teacher of another vocabulary, or of another width with hidden_weight > 0, is refused with both sizes
    auto error_of = [&](const train_scenario& s) {
        try {
            std::ostringstream quiet;
            train(s, {}, quiet);
        } catch (const config_error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    const std::string prefix = "tiny.json: /train/distill/teacher = \"" + teacher + "\", ";
    CHECK(error_of(tiny((dir / "bad").string(), "clm", true, R"(, "T": 2)", distill, R"({"vocab_size": 150})")) ==
          prefix + "the teacher's vocabulary has 200 pieces, the student's 150");
    train_scenario other_pieces = tiny((dir / "bad").string(), "clm", true, R"(, "T": 2)", distill);
    other_pieces.max_documents = 50;  // a tokenizer of the teacher's size trained on other text
    CHECK(error_of(other_pieces).find(prefix + "its tokenizer differs from this run's") == 0);
    train_scenario longer = student("bad");
    longer.model.max_len = 24;
    CHECK(error_of(longer) == prefix + "the teacher's max_len is 16, shorter than the student's 24");
    fs::remove_all(dir);
}

TEST_CASE("trainer: a wider teacher's residual streams are matched through learned projections that resume too") {
    const fs::path dir = fs::temp_directory_path() / "wtasim_trainer_distill_proj_test";
    fs::remove_all(dir);
    std::ostringstream log;
    train_scenario ts = tiny((dir / "teacher").string(), "clm", true, R"(, "T": 1, "spiking": false)", "",
                             R"({"vocab_size": 200})", 24);
    ts.steps = ts.opt.total = 2;
    train(ts, {}, log);
    const std::string teacher = (dir / "teacher" / "checkpoint.h5").string();
    auto student = [&](const std::string& out) {
        return tiny((dir / out).string(), "clm", true, R"(, "T": 2)",
                    R"(, "distill": {"teacher": ")" + teacher + R"(", "weight": 0.5, "hidden_weight": 0.5})",
                    R"({"from": ")" + teacher + "\"}");
    };
    train(student("whole"), {}, log);
    train_options o;
    o.stop_after = 4;
    train(student("parts"), o, log);
    o.stop_after = 0;
    o.resume = true;
    train(student("parts"), o, log);
    const checkpoint a = load_checkpoint((dir / "whole" / "checkpoint.h5").string()),
                     b = load_checkpoint((dir / "parts" / "checkpoint.h5").string());
    // the projection [24, 16] is training state beside the AdamW moments, not a model parameter
    REQUIRE(a.optimizer.count("distill.proj.0.weight") == 1);
    CHECK(a.optimizer.at("distill.proj.0.weight").shape() == shape_t{24, 16});
    CHECK(a.optimizer.count("m.distill.proj.0.weight") == 1);
    CHECK(a.params.count("distill.proj.0.weight") == 0);
    for (const auto& [name, t] : a.optimizer) {  // resumed bit for bit, projections and moments included
        CAPTURE(name);
        CHECK(b.optimizer.at(name).values() == t.values());
    }
    for (const auto& [name, t] : a.params) {
        CAPTURE(name);
        CHECK(b.params.at(name).values() == t.values());
    }
    // it learned: the hidden term fell from the first logged step to the last
    const auto curve_lines = lines((dir / "whole" / "metrics.jsonl").string());
    double first = -1, last = -1;
    for (const auto& l : curve_lines) {
        const auto j = nlohmann::json::parse(l);
        if (!j.contains("distill_hidden")) continue;
        if (first < 0) first = j.at("distill_hidden").get<double>();
        last = j.at("distill_hidden").get<double>();
    }
    CHECK(first > 0.0);
    CHECK(last < first);
    fs::remove_all(dir);
}
