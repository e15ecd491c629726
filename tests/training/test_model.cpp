// Whole models and objectives: the ANN twin's every gradient against finite differences, the spiking
// model's head gradient against finite differences (spikes do not depend on the head), thread-count
// independence, cross-entropy, CLM / MLM targets, AdamW, and the model config's JSON errors.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "common/finite_difference.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "training/language_model.hpp"
#include "training/objectives.hpp"

using namespace wtasim;

namespace {
model_config tiny(bool spiking, bool causal = true) {
    model_config c = model_config::from_json(R"({"vocab": 11, "d_model": 8, "heads": 2, "d_ff": 16, "layers": 2,
        "max_len": 8, "T": )" + std::string(spiking ? "3" : "1") +
                                             R"(, "spiking": )" + (spiking ? "true" : "false") + R"(, "causal": )" +
                                             (causal ? "true" : "false") + "}");
    return c;
}

struct batch {
    std::size_t B = 2, N = 6;
    std::vector<std::int32_t> tokens{1, 4, 2, 9, 3, 3, 7, 0, 5, 10, 2, 6};
    std::vector<std::uint8_t> mask{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
};

double loss_of(language_model& m, const batch& b, std::vector<float>* dlogits = nullptr) {
    const std::size_t V = m.config().vocab;
    std::vector<float> logits(b.B * b.N * V), d(logits.size());
    m.forward(logits.data(), b.tokens.data(), b.B, b.N, b.mask, true);
    const auto targets = clm_targets(b.tokens, b.mask, b.B, b.N);
    const loss_result r = cross_entropy(d.data(), logits.data(), targets.data(), b.B * b.N, V);
    if (dlogits) *dlogits = d;
    return r.loss;
}
}  // namespace

TEST_CASE("model: every ANN twin gradient equals finite differences") {
    for (bool causal : {true, false}) {
        language_model m(tiny(false, causal));
        m.init(3);
        const batch b;
        std::vector<float> d;
        m.zero_grad();
        loss_of(m, b, &d);
        m.backward(d.data());
        for (auto& p : m.parameters()) {
            CAPTURE(p.name);
            // a few entries of every tensor; the finite difference runs in double around the float model
            for (std::size_t idx : {std::size_t{0}, p.value->size() / 2, p.value->size() - 1}) {
                CAPTURE(idx);
                float& w = p.value->data()[idx];
                const float saved = w;
                const std::vector<double> x{saved};
                const auto numeric = test::central_difference(x, 1e-2, [&](const std::vector<double>& xs) {
                    w = static_cast<float>(xs[0]);
                    return loss_of(m, b);
                });
                w = saved;
                const double analytic = p.grad->data()[idx];
                CHECK(std::abs(analytic - numeric[0]) <= 2e-3 + 2e-2 * std::abs(numeric[0]));
            }
        }
    }
}

TEST_CASE("model: the spiking model's head gradient equals finite differences; embeddings get gradient") {
    language_model m(tiny(true));
    m.init(4);
    const batch b;
    std::vector<float> d;
    m.zero_grad();
    const double base = loss_of(m, b, &d);
    CHECK(std::isfinite(base));
    m.backward(d.data());
    for (auto& p : m.parameters()) {
        if (!p.name.starts_with("head.")) continue;
        for (std::size_t idx : {std::size_t{0}, std::size_t{5}, p.value->size() - 1}) {
            float& w = p.value->data()[idx];
            const float saved = w;
            const auto numeric =
                test::central_difference(std::vector<double>{saved}, 1e-2, [&](const std::vector<double>& xs) {
                    w = static_cast<float>(xs[0]);
                    return loss_of(m, b);
                });
            w = saved;
            CHECK(p.grad->data()[idx] == doctest::Approx(numeric[0]).epsilon(1e-2).scale(1e-3));
        }
    }
    double tok = 0;
    for (auto& p : m.parameters())
        if (p.name == "embed.tok.weight")
            for (float g : p.grad->values()) tok += std::abs(g);
    CHECK(tok > 0.0);  // the surrogate gradient reaches the embeddings through every block
}

TEST_CASE("model: logits and gradients are bit-identical for 1 and 2 threads") {
    std::vector<float> runs[2];
    int i = 0;
    for (std::size_t threads : {1u, 2u}) {
        thread_limit limit(threads);
        language_model m(tiny(true));
        m.init(5);
        const batch b;
        std::vector<float> d;
        m.zero_grad();
        loss_of(m, b, &d);
        m.backward(d.data());
        runs[i] = d;
        for (auto& p : m.parameters()) runs[i].insert(runs[i].end(), p.grad->begin(), p.grad->end());
        ++i;
    }
    CHECK(std::memcmp(runs[0].data(), runs[1].data(), runs[0].size() * 4) == 0);
}

TEST_CASE("objectives: cross-entropy by hand and its gradient") {
    // Uniform logits over V = 4: loss log 4; gradient (1/4 - onehot) / count.
    const std::vector<float> logits(8, 0.5f);
    const std::vector<std::int32_t> targets{2, -1};
    std::vector<float> d(8);
    const loss_result r = cross_entropy(d.data(), logits.data(), targets.data(), 2, 4);
    CHECK(r.count == 1);
    CHECK(r.loss == doctest::Approx(std::log(4.0)));
    CHECK(d[2] == doctest::Approx(0.25 - 1.0));
    CHECK(d[0] == doctest::Approx(0.25));
    CHECK(d[5] == 0.0f);
    // a confident right answer: small loss, counted correct
    const std::vector<float> sure{0, 0, 9, 0};
    const loss_result s = cross_entropy(d.data(), sure.data(), targets.data(), 1, 4);
    CHECK(s.correct == 1);
    CHECK(s.loss == doctest::Approx(std::log(1 + 3 * std::exp(-9.0))));
}

TEST_CASE("objectives: CLM targets stay inside real tokens; MLM masks 15% with 80/10/10, never specials") {
    const batch b;
    const auto t = clm_targets(b.tokens, b.mask, b.B, b.N);
    CHECK(t[0] == 4);
    CHECK(t[5] == -1);  // last position of sequence 0
    CHECK(t[9] == -1);  // next token is padding
    CHECK(t[8] == 10);
    std::vector<std::int32_t> tokens(200000);
    for (std::size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<std::int32_t>(i % 97);
    const counter_rng rng(6);
    const mlm_batch mb = mlm_mask(tokens, {}, 97, 96, {0, 1}, rng, 3);
    std::size_t chosen = 0, masked = 0, same = 0, special = 0;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        if (mb.targets[i] < 0) continue;
        ++chosen;
        masked += mb.inputs[i] == 96 ? 1 : 0;
        same += mb.inputs[i] == tokens[i] ? 1 : 0;
        special += tokens[i] <= 1 ? 1 : 0;
    }
    CHECK(special == 0);
    const double eligible = double(tokens.size()) * 95.0 / 97.0;
    CHECK(double(chosen) / eligible == doctest::Approx(0.15).epsilon(0.03));
    CHECK(double(masked) / double(chosen) == doctest::Approx(0.8).epsilon(0.02));
    CHECK(double(same) / double(chosen) == doctest::Approx(0.1 + 0.1 / 97).epsilon(0.1));
    CHECK(mlm_mask(tokens, {}, 97, 96, {0, 1}, rng, 3).inputs == mb.inputs);  // deterministic
    CHECK(mlm_mask(tokens, {}, 97, 96, {0, 1}, rng, 4).inputs != mb.inputs);  // a new draw per step
}

TEST_CASE("objectives: AdamW's first step by hand, the schedule, and resume from its state") {
    adamw_config cfg;
    cfg.lr = 0.1;
    cfg.warmup = 2;
    cfg.total = 10;
    cfg.min_lr = 0.01;
    cfg.clip = 0;
    CHECK(cfg.learning_rate(0) == doctest::Approx(0.05));
    CHECK(cfg.learning_rate(1) == doctest::Approx(0.1));
    CHECK(cfg.learning_rate(6) == doctest::Approx(0.01 + 0.5 * 0.09 * (1 + std::cos(3.14159265358979 * 0.5))));
    CHECK(cfg.learning_rate(50) == doctest::Approx(0.01));
    tensor<float> w({2}, {1.0f, -2.0f}), g({2}, {0.5f, -0.25f});
    std::vector<param_ref> params{{"blocks.0.attn.q.weight", &w, &g}};
    adamw opt(cfg);
    opt.step(params);
    // step 1: m/c1 = g, v/c2 = g^2 -> update = sign(g); w -= lr (sign(g) + wd w)
    CHECK(w.data()[0] == doctest::Approx(1.0 - 0.05 * (1 + 0.01 * 1.0)));
    CHECK(w.data()[1] == doctest::Approx(-2.0 - 0.05 * (-1 + 0.01 * -2.0)));
    // resume: a copy loaded from the state continues exactly like the original
    adamw copy(cfg);
    copy.load_state(opt.state());
    tensor<float> w2 = w;
    std::vector<param_ref> params2{{"blocks.0.attn.q.weight", &w2, &g}};
    opt.step(params);
    copy.step(params2);
    CHECK(w.values() == w2.values());
    CHECK(copy.steps() == 2);
    CHECK(decays("blocks.0.mlp.fc1.weight"));
    CHECK_FALSE(decays("blocks.0.mlp.fc1.bn.weight"));
    CHECK_FALSE(decays("embed.tok.weight"));
    CHECK_FALSE(decays("head.bias"));
}

TEST_CASE("model: config JSON round-trips and bad values name the JSON path") {
    const model_config c = tiny(true);
    const model_config back = model_config::from_json(c.to_json());
    CHECK(back.to_json() == c.to_json());
    auto error_of = [](const std::string& json) {
        try {
            model_config::from_json(json, "x.json", "/model");
        } catch (const config_error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK(error_of(R"({"attention": {"k": 0}})") == "x.json: /model/attention/k = 0, must be >= 1");
    CHECK(error_of(R"({"d_model": 10, "heads": 4})") == "x.json: /model/heads = 4, must divide d_model = 10");
    CHECK(error_of(R"({"neuron": "izhikevich"})") ==
          "x.json: /model/neuron = \"izhikevich\", expected one of \"lif\", \"nilif\"");
    CHECK(error_of(R"({"layerz": 2})").find("x.json: /model/layerz = 2, unknown key, expected one of:") == 0);
    CHECK(error_of(R"({"lif": {"tau": 1.0}})") == "x.json: /model/lif/tau = 1.0, must be > 1.0");
    CHECK(error_of(R"({"T": "four"})") == "x.json: /model/T = \"four\", expected a non-negative integer");
    CHECK(error_of(R"({"spiking": false, "T": 4})") == "x.json: /model/T = 4, the ANN twin runs one step: T must be 1");
    CHECK(error_of("{").find("x.json: not valid JSON") == 0);
    // the recency options and the Q/K threshold (docs/model.md §10)
    CHECK(error_of(R"({"attention": {"recency": "both"}})") ==
          "x.json: /model/attention/recency = \"both\", expected one of \"none\", \"shift\", \"bias\", \"shift+bias\"");
    CHECK(error_of(R"({"attention": {"kind": "ssa", "recency": "bias"}})") ==
          "x.json: /model/attention/recency = \"bias\", a recency bias needs /attention/kind = \"wta\"");
    CHECK(error_of(R"({"attention": {"recency": "bias", "bias": [1, 2]}})") ==
          "x.json: /model/attention/bias = [1,2], must be non-increasing with distance");
    CHECK(error_of(R"({"attention": {"bias": [1]}})") ==
          "x.json: /model/attention/bias = [1], needs /attention/recency = \"bias\" or \"shift+bias\"");
    CHECK(error_of(R"({"attention": {"fill": true}})") ==
          "x.json: /model/attention/fill = true, needs a recency bias (/attention/recency = \"bias\")");
    CHECK(error_of(R"({"attention": {"v_th_qk": -0.5}})") ==
          "x.json: /model/attention/v_th_qk = -0.5, must be > lif/v_reset = 0.000000");
    const model_config r = model_config::from_json(
        R"({"attention": {"recency": "shift+bias", "bias": [3, 1], "fill": true, "v_th_qk": 0.5}})");
    CHECK(r.block.attn.shift);
    CHECK(r.block.attn.bias_len == 2);
    CHECK(r.block.attn.fill);
    CHECK(r.block.attn.v_th_qk == 0.5f);
    CHECK(model_config::from_json(r.to_json()).to_json() == r.to_json());
    // the readout (docs/model.md §10): absent from the JSON when "spikes", so older configs stay byte-identical
    CHECK(c.readout == "spikes");
    CHECK(c.to_json().find("readout") == std::string::npos);
    for (const char* kind : {"levels", "residual"}) {
        const model_config o = model_config::from_json(std::string(R"({"readout": ")") + kind + "\"}");
        CHECK(o.readout == kind);
        CHECK(model_config::from_json(o.to_json()).readout == kind);
        CHECK(model_config::from_json(o.to_json()).to_json() == o.to_json());
    }
    CHECK(error_of(R"({"readout": "membrane"})") ==
          "x.json: /model/readout = \"membrane\", expected one of \"spikes\", \"levels\", \"residual\"");
    CHECK(error_of(R"({"spiking": false, "T": 1, "readout": "residual"})") ==
          "x.json: /model/readout = \"residual\", the ANN twin reads LN_final(X): only \"spikes\" (the default)");
    // the normalisation (docs/model.md §10): absent when "batch"
    CHECK(c.to_json().find("norm") == std::string::npos);
    for (const char* kind : {"running-rms", "none"}) {
        const model_config o = model_config::from_json(std::string(R"({"norm": ")") + kind + "\"}");
        CHECK(norm_kind_name(o.block.norm) == std::string(kind));
        CHECK(model_config::from_json(o.to_json()).to_json() == o.to_json());
    }
    CHECK(error_of(R"({"norm": "layer"})") ==
          "x.json: /model/norm = \"layer\", expected one of \"batch\", \"running-rms\", \"none\"");
    CHECK(error_of(R"({"spiking": false, "T": 1, "norm": "none"})") ==
          "x.json: /model/norm = \"none\", the ANN twin uses LayerNorm: only \"batch\" (the default)");
}

TEST_CASE("model: with running-rms or no normalisation, training and evaluation forwards agree bit for bit") {
    // docs/model.md §10: the statistics a training forward uses are the running ones, so training and inference
    // compute the same function (and the simulator's fold matches both); batch norm does not, which the test shows.
    for (const char* kind : {"running-rms", "none", "batch"}) {
        CAPTURE(kind);
        const model_config c = model_config::from_json(std::string(R"({"vocab": 11, "d_model": 8, "heads": 2,
            "d_ff": 16, "layers": 2, "max_len": 8, "T": 3, "norm": ")") +
                                                       kind + "\"}");
        language_model m(c);
        m.init(5);
        const batch b;
        std::vector<float> eval(b.B * b.N * c.vocab), train(eval.size());
        std::vector<float> before;
        for (auto& r : m.buffers()) before.insert(before.end(), r.value->begin(), r.value->end());
        m.forward(eval.data(), b.tokens.data(), b.B, b.N, b.mask, false);
        m.forward(train.data(), b.tokens.data(), b.B, b.N, b.mask, true);
        if (std::string(kind) == "batch") {
            CHECK(eval != train);
            continue;
        }
        CHECK(eval == train);
        // running-rms has moved its mean square towards the batch's; none has not moved
        std::vector<float> after;
        for (auto& r : m.buffers()) after.insert(after.end(), r.value->begin(), r.value->end());
        CHECK((after != before) == (std::string(kind) == "running-rms"));
    }
}
