// Distillation (training/distill.hpp, docs/model.md §10) checked against finite differences and by hand:
//   L = (1 - w) CE + w tau^2 KL(softmax(z_t / tau) || softmax(z_s / tau)) + w_h sum_l MSE(X_t^l, mean_t X_s^l)
// - the KL term's gradient w.r.t. the student logits, for two temperatures, only on rows with a target;
// - the whole objective's gradient w.r.t. every parameter tensor of an ANN twin student taught by another ANN twin
//   (the KL and the residual-stream MSE injected into backward), against central differences of the objective;
// - the teacher checks and the scenario errors (file, JSON path, value), and the task kinds refused.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <sstream>

#include "common/finite_difference.hpp"
#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "scenarios/task.hpp"
#include "scenarios/task_run.hpp"
#include "scenarios/train.hpp"
#include "training/distill.hpp"
#include "training/objectives.hpp"

using namespace wtasim;

namespace {
model_config ann(std::uint64_t vocab = 11) {
    return model_config::from_json(R"({"vocab": )" + std::to_string(vocab) + R"(, "d_model": 8, "heads": 2,
        "d_ff": 16, "layers": 2, "max_len": 8, "T": 1, "spiking": false, "causal": true})");
}

struct batch {
    std::size_t B = 2, N = 6;
    std::vector<std::int32_t> tokens{1, 4, 2, 9, 3, 3, 7, 0, 5, 10, 2, 6};
    std::vector<std::uint8_t> mask{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
};

// The combined objective of `dist` on the CLM batch `b`; with `backward`, also the student's gradients.
double lm_objective(language_model& student, distiller& dist, const batch& b, bool backward) {
    const std::size_t V = student.config().vocab;
    const auto targets = clm_targets(b.tokens, b.mask, b.B, b.N);
    std::vector<float> logits(b.B * b.N * V), d(logits.size());
    student.forward(logits.data(), b.tokens.data(), b.B, b.N, b.mask, true);
    const double ce = cross_entropy(d.data(), logits.data(), targets.data(), b.B * b.N, V).loss;
    const distill_terms t =
        dist.lm(student, d.data(), logits.data(), targets.data(), b.tokens.data(), b.B, b.N, b.mask);
    if (backward) {
        CHECK(t.hidden > 0.0);
        student.backward(d.data());
    }
    return t.objective(ce, dist.config());
}

// Checks the first, middle and last entry of every tensor of `params` against central differences of
// `objective()`. The gradients are read before the differences run, which may add to some (the projections').
template <class Objective>
void check_sampled_gradients(std::vector<param_ref> params, Objective&& objective) {
    std::vector<float> analytic;
    for (auto& p : params) analytic.insert(analytic.end(), p.grad->begin(), p.grad->end());
    std::size_t offset = 0;
    for (auto& p : params) {
        CAPTURE(p.name);
        for (std::size_t idx : {std::size_t{0}, p.value->size() / 2, p.value->size() - 1}) {
            CAPTURE(idx);
            float& x = p.value->data()[idx];
            const float saved = x;
            const auto numeric =
                test::central_difference(std::vector<double>{saved}, 1e-2, [&](const std::vector<double>& xs) {
                    x = static_cast<float>(xs[0]);
                    return objective();
                });
            x = saved;
            CHECK(std::abs(analytic[offset + idx] - numeric[0]) <= 2e-3 + 2e-2 * std::abs(numeric[0]));
        }
        offset += p.value->size();
    }
}
}  // namespace

TEST_CASE("distill: the KL term by hand, and its gradient w.r.t. the student logits equals finite differences") {
    const std::size_t rows = 4, V = 5;
    const std::vector<std::int32_t> targets{2, -1, 0, 4};
    std::vector<float> teacher(rows * V);
    std::vector<double> student(rows * V);
    for (std::size_t i = 0; i < rows * V; ++i) {
        teacher[i] = static_cast<float>(std::sin(1.7 * double(i)) * 2.0);
        student[i] = std::cos(0.9 * double(i) + 0.3) * 1.5;
    }
    for (double tau : {1.0, 2.5}) {
        CAPTURE(tau);
        const double w = 0.7;
        auto objective = [&](const std::vector<double>& z, std::vector<float>* grad) {
            std::vector<float> zs(z.begin(), z.end()), d(rows * V, 0.0f);
            const double kl = distill_kl(d.data(), w, zs.data(), teacher.data(), targets.data(), rows, V, tau);
            if (grad) *grad = d;
            return w * kl;
        };
        std::vector<float> analytic;
        objective(student, &analytic);
        const auto numeric =
            test::central_difference(student, 1e-3, [&](const auto& z) { return objective(z, nullptr); });
        for (std::size_t k = 0; k < rows * V; ++k) {
            CAPTURE(k);
            CHECK(analytic[k] == doctest::Approx(numeric[k]).epsilon(1e-3).scale(1e-5));
            if (targets[k / V] < 0) CHECK(analytic[k] == 0.0f);  // a row without a target takes no part
        }
    }
    // by hand: two classes, teacher (1/2, 1/2), student softmax(0, log 3) = (1/4, 3/4), tau = 1:
    // KL = 1/2 log 2 + 1/2 log(2/3); the gradient adds to what is already there (the task loss's)
    const std::vector<float> zt{0.0f, 0.0f}, zs{0.0f, static_cast<float>(std::log(3.0))};
    const std::vector<std::int32_t> one{1};
    std::vector<float> d{1.0f, 1.0f};
    CHECK(distill_kl(d.data(), 1.0, zs.data(), zt.data(), one.data(), 1, 2, 1.0) ==
          doctest::Approx(0.5 * std::log(2.0) + 0.5 * std::log(2.0 / 3.0)));
    CHECK(d[0] == doctest::Approx(1.0 + (0.25 - 0.5)));
    CHECK(d[1] == doctest::Approx(1.0 + (0.75 - 0.5)));
    // the same logits: no divergence and no gradient
    std::vector<float> same(2, 0.0f);
    CHECK(distill_kl(same.data(), 1.0, zs.data(), zs.data(), one.data(), 1, 2, 3.0) ==
          doctest::Approx(0.0).scale(1e-12));
    CHECK(same[0] == doctest::Approx(0.0).scale(1e-7));
}

TEST_CASE("distill: the combined objective's gradient on an ANN twin student equals finite differences") {
    // The residual-stream term is what this tests most: its gradient enters backward through add_residual_grad.
    language_model teacher(ann()), student(ann());
    teacher.init(21);
    student.init(3);
    const batch b;
    for (auto [w, tau, w_h] : {std::tuple{0.6, 2.0, 0.5}, std::tuple{0.0, 1.0, 1.0}}) {
        CAPTURE(w);
        CAPTURE(w_h);
        distill_config cfg;
        cfg.enabled = true;
        cfg.weight = w;
        cfg.temperature = tau;
        cfg.hidden_weight = w_h;
        distiller dist(cfg, teacher, student.config());
        student.zero_grad();
        lm_objective(student, dist, b, true);
        CHECK(dist.teacher_seconds() > 0.0);
        check_sampled_gradients(student.parameters(), [&] { return lm_objective(student, dist, b, false); });
    }
    // the teacher got no gradient
    for (auto& p : teacher.parameters())
        for (float g : p.grad->values()) REQUIRE(g == 0.0f);
}

TEST_CASE(
    "distill: a wider teacher's hidden term goes through learned projections; their gradient and the "
    "student's equal finite differences") {
    const model_config wide = model_config::from_json(R"({"vocab": 11, "d_model": 12, "heads": 2, "d_ff": 24,
        "layers": 2, "max_len": 8, "T": 1, "spiking": false, "causal": true})");
    language_model teacher(wide), student(ann());
    teacher.init(21);
    student.init(3);
    const batch b;
    distill_config cfg;
    cfg.enabled = true;
    cfg.weight = 0.5;
    cfg.temperature = 2.0;
    cfg.hidden_weight = 1.0;
    distiller dist(cfg, teacher, student.config(), 7);
    auto proj = dist.parameters();
    REQUIRE(proj.size() == 2);
    CHECK(proj[1].name == "distill.proj.1.weight");
    CHECK(proj[0].value->shape() == shape_t{12, 8});
    student.zero_grad();
    dist.zero_grad();
    lm_objective(student, dist, b, true);
    auto checked = student.parameters();
    checked.insert(checked.end(), proj.begin(), proj.end());
    check_sampled_gradients(checked, [&] { return lm_objective(student, dist, b, false); });
}

TEST_CASE("distill: the hidden term compares mean_t of a spiking student's residual stream, on real tokens only") {
    model_config cfg = ann();
    cfg.spiking = true;
    cfg.T = 3;
    language_model student(cfg);
    student.init(5);
    const batch b;
    std::vector<float> logits(b.B * b.N * cfg.vocab);
    student.forward(logits.data(), b.tokens.data(), b.B, b.N, b.mask, true);
    const auto mean = residual_means(student);
    REQUIRE(mean.size() == 2);
    REQUIRE(mean[1].size() == b.B * b.N * cfg.D);
    const std::vector<float>& x = student.residual(1);
    CHECK(mean[1][7] == doctest::Approx((x[7] + x[b.B * b.N * cfg.D + 7] + x[2 * b.B * b.N * cfg.D + 7]) / 3.0));
    // a teacher equal to the student's means except on padding: no loss
    auto teacher = mean;
    for (auto& l : teacher)
        for (std::size_t i = 10 * cfg.D; i < 12 * cfg.D; ++i) l[i] += 5.0f;
    CHECK(distill_hidden(student, teacher, b.mask, 1.0) == doctest::Approx(0.0).scale(1e-12));
    teacher[0][0] += 2.0f;  // one real value off by 2: (4 / (10 tokens x 8 channels))
    CHECK(distill_hidden(student, teacher, b.mask, 1.0) == doctest::Approx(4.0 / 80.0));
}

TEST_CASE("distill: a teacher that cannot teach is named with both sizes") {
    const model_config s = ann(11);
    CHECK(teacher_mismatch(ann(11), s, 1.0) == "");
    CHECK(teacher_mismatch(ann(13), s, 0.0) == "the teacher's vocabulary has 13 pieces, the student's 11");
    model_config t = ann(11);
    t.max_len = 4;
    CHECK(teacher_mismatch(t, s, 0.0) == "the teacher's max_len is 4, shorter than the student's 8");
    t = ann(11);
    t.causal = false;
    CHECK(teacher_mismatch(t, s, 0.0) == "the teacher is bidirectional, the student causal");
    t = ann(11);
    t.D = 16;
    CHECK(teacher_mismatch(t, s, 0.0) == "");
    CHECK(teacher_mismatch(t, s, 0.5) == "");  // another width: a learned projection
    t.L = 3;
    CHECK(teacher_mismatch(t, s, 0.0) == "");
    CHECK(teacher_mismatch(t, s, 0.5) ==
          "hidden_weight > 0 compares the residual streams after each block: the "
          "teacher has 3 blocks, the student 2 (use hidden_weight 0)");
}

TEST_CASE("distill: scenario errors name the file, the JSON path and the value") {
    auto error_of = [](const std::string& json) {
        try {
            parse_train_scenario(json, "s.json");
        } catch (const error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    const std::string teacher = WTASIM_SOURCE_DIR "/models/ann-kjv-small.h5";
    auto with = [&](const std::string& distill) {
        return R"({"train": {"distill": {"teacher": ")" + teacher + "\"" + distill + "}}}";
    };
    CHECK(error_of(with("")) == "");
    CHECK(error_of(with(R"(, "weight": 1.5)")) == "s.json: /train/distill/weight = 1.5, must be <= 1.0");
    CHECK(error_of(with(R"(, "weight": -0.1)")) == "s.json: /train/distill/weight = -0.1, must be >= 0.0");
    CHECK(error_of(with(R"(, "temperature": 0)")) == "s.json: /train/distill/temperature = 0, must be > 0.0");
    CHECK(error_of(with(R"(, "hidden_weight": -1)")) == "s.json: /train/distill/hidden_weight = -1, must be >= 0.0");
    CHECK(error_of(with(R"(, "temprature": 2)")).find("s.json: /train/distill/temprature = 2, unknown key") == 0);
    CHECK(error_of(R"({"train": {"distill": {"teacher": "/no/such.h5"}}})") ==
          "s.json: /train/distill/teacher = \"/no/such.h5\", no such file");
    CHECK(error_of(R"({"train": {"distill": {"weight": 0.5}}})") ==
          "s.json: /train/distill/teacher = null, missing: the teacher checkpoint (HDF5)");
    CHECK(error_of(R"({"tokenizer": {"from": ")" + teacher + R"(", "vocab_size": 300}})")
              .find("s.json: /tokenizer/vocab_size = 300, give either /tokenizer/from") == 0);
    CHECK(error_of(R"({"tokenizer": {"from": "/no/such.h5"}})") ==
          "s.json: /tokenizer/from = \"/no/such.h5\", no such file");

    // task scenarios: the teacher is the fine-tuned twin, so no teacher key, and the twin must be given
    auto task_error_of = [](const std::string& models, const std::string& distill) {
        try {
            task_scenario::from_json(R"({"task": {"builtin": "spam"}, "models": )" + models +
                                         R"(, "finetune": {"distill": )" + distill + "}}",
                                     WTASIM_SOURCE_DIR "/scenarios/t.json");
        } catch (const error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    const std::string both = R"({"spiking": "../models/wd-kjv-small.h5", "ann": "../models/ann-kjv-small.h5"})";
    const std::string t = WTASIM_SOURCE_DIR "/scenarios/t.json";
    CHECK(task_error_of(both, R"({"weight": 0.3, "temperature": 2, "hidden_weight": 0.1})") == "");
    CHECK(
        task_error_of(both, R"({"teacher": "x.h5"})").find(t + ": /finetune/distill/teacher = \"x.h5\", unknown key") ==
        0);
    CHECK(task_error_of(both, R"({"temperature": -1})") == t + ": /finetune/distill/temperature = -1, must be > 0.0");
    CHECK(task_error_of(R"({"spiking": "../models/wd-kjv-small.h5"})", "{}") ==
          t + ": /finetune/distill = {}, needs /models/ann: the teacher is the ANN twin, fine-tuned on the task first");
}

TEST_CASE("distill: a task scenario distils classification and tagging only; the run says so for a regression") {
    const std::string fixture = WTASIM_SOURCE_DIR "/tests/data/tasks/scenarios/glue-stsb.json";
    nlohmann::json j = nlohmann::json::parse(json_reader::read_file(fixture, "fixture"));
    j["finetune"]["distill"] = {{"weight", 0.5}};
    j["output"] = (std::filesystem::temp_directory_path() / "wtasim_distill_stsb").string();
    const task_scenario s = task_scenario::from_json(j.dump(), fixture);
    std::ostringstream log;
    try {
        run_task(s, log);
        FAIL("a regression task was distilled");
    } catch (const config_error& e) {
        CHECK(std::string(e.what()) ==
              fixture +
                  ": /finetune/distill: task stsb is of kind regression; distillation fine-tunes "
                  "classification, pair classification and tagging tasks");
    }
    std::filesystem::remove_all(j["output"].get<std::string>());
}
