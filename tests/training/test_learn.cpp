// Learnable neurons in the trainer (docs/model.md §10): the config keys and their errors, the parameters and
// their checkpoint names, a learned model at its initial values computing exactly what the plain model
// computes, the layer's reduction of the kernel's per-neuron sums (per channel, per layer, chained to w),
// and the neuron learning-rate multiplier of the training scenario.
#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include "attention/layers.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "scenarios/train.hpp"
#include "training/language_model.hpp"
#include "training/objectives.hpp"

using namespace wtasim;

namespace {
std::string error_of(const std::string& json) {
    try {
        model_config::from_json(json, "x.json", "/model");
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

const char* tiny = R"("vocab": 17, "d_model": 8, "heads": 2, "d_ff": 16, "layers": 2, "T": 3, "max_len": 8)";
std::string config(const std::string& rest) {
    return std::string("{") + tiny + ", " + rest + "}";
}

std::map<std::string, std::vector<std::size_t>> neuron_params(language_model& m) {
    std::map<std::string, std::vector<std::size_t>> out;
    for (auto& p : m.parameters())
        if (is_neuron_param(p.name)) out[p.name] = p.value->shape();
    return out;
}
}  // namespace

TEST_CASE("learn config: keys, defaults absent from the JSON, and errors naming the JSON path") {
    const model_config plain = model_config::from_json(config(R"("neuron": "lif")"));
    CHECK_FALSE(plain.block.learn.any());
    CHECK(plain.to_json().find("learn_") == std::string::npos);  // old checkpoints' configs stay byte-identical
    CHECK(plain.to_json().find("layer_alpha") == std::string::npos);
    const model_config c = model_config::from_json(
        config(R"("lif": {"learn_tau": "channel", "learn_v_th": "layer", "layer_alpha": {"q": 2.5, "final": 3}})"));
    CHECK(c.block.learn.tau == learn_mode::channel);
    CHECK(c.block.learn.v_th == learn_mode::layer);
    CHECK(c.block.alpha[static_cast<std::size_t>(neuron_role::q)] == 2.5f);
    CHECK(role_neuron(c.block, neuron_role::q).sg.alpha == 2.5f);
    CHECK(role_neuron(c.block, neuron_role::k).sg.alpha == 4.0f);
    CHECK(model_config::from_json(c.to_json()).to_json() == c.to_json());
    CHECK(error_of(R"({"lif": {"learn_tau": "neuron"}})") ==
          "x.json: /model/lif/learn_tau = \"neuron\", expected one of \"none\", \"layer\", \"channel\"");
    CHECK(error_of(R"({"lif": {"learn_v_th": true}})").find("x.json: /model/lif/learn_v_th = true") == 0);
    CHECK(error_of(R"({"spiking": false, "T": 1, "lif": {"learn_tau": "layer"}})") ==
          "x.json: /model/lif/learn_tau = \"layer\", the ANN twin has no neurons to learn");
    CHECK(error_of(R"({"lif": {"layer_alpha": {"z": 2}}})").find("x.json: /model/lif/layer_alpha/z = 2, unknown key") ==
          0);
    CHECK(error_of(R"({"lif": {"layer_alpha": {"q": 0}}})") == "x.json: /model/lif/layer_alpha/q = 0, must be > 0.0");
    CHECK(error_of(R"({"neuron": "nilif", "lif": {"layer_alpha": {"sn2": 2}}})") ==
          "x.json: /model/lif/layer_alpha/sn2 = 2.0, an NI-LIF layer (/model/neuron = \"nilif\"): only q, k, v and a "
          "are LIF layers");
    CHECK(error_of(R"({"readout": "residual", "lif": {"layer_alpha": {"final": 2}}})") ==
          "x.json: /model/lif/layer_alpha/final = 2.0, readout \"residual\" has no LIF final neuron (its surrogate is "
          "never used)");
}

TEST_CASE("learn model: parameters per LIF layer under docs/model.md §8 names; NI-LIF layers learn nothing") {
    language_model m(model_config::from_json(config(R"("lif": {"learn_tau": "channel", "learn_v_th": "layer"})")));
    const auto names = neuron_params(m);
    CHECK(names.size() == 2 * (7 * 2 + 1));
    CHECK(names.at("blocks.0.sn1.plif_w") == std::vector<std::size_t>{8});
    CHECK(names.at("blocks.1.h.plif_w") == std::vector<std::size_t>{16});
    CHECK(names.at("blocks.0.q.v_th") == std::vector<std::size_t>{1});
    CHECK(names.at("final.plif_w") == std::vector<std::size_t>{8});
    language_model n(model_config::from_json(config(
        R"("neuron": "nilif", "attention": {"v_th_attn": 0.25, "v_th_qk": 0.75}, "lif": {"learn_v_th": "channel"})")));
    const auto nilif_names = neuron_params(n);
    CHECK(nilif_names.size() == 4 * 2);  // q, k, v, a of each block
    for (auto& p : n.parameters()) {
        if (p.name == "blocks.0.a.v_th") CHECK(p.value->data()[3] == 0.25f);  // initialised at the role's threshold
        if (p.name == "blocks.1.k.v_th") CHECK(p.value->data()[0] == 0.75f);
        if (p.name == "blocks.1.v.v_th") CHECK(p.value->data()[7] == 1.0f);
    }
    language_model lv(model_config::from_json(config(R"("readout": "levels", "lif": {"learn_tau": "layer"})")));
    CHECK(neuron_params(lv).count("final.plif_w") == 0);  // the "levels" final neuron is NI-LIF
}

TEST_CASE("learn model: at their initial values learned constants compute exactly what the plain model does") {
    const std::vector<std::int32_t> tokens{1, 5, 9, 2, 7, 3, 4, 12, 6, 8, 11, 0};
    for (const char* neuron : {"lif", "nilif"}) {
        CAPTURE(neuron);
        const std::string kind = std::string(R"("neuron": ")") + neuron + "\"";
        language_model a(model_config::from_json(config(kind)));
        language_model b(
            model_config::from_json(config(kind + R"(, "lif": {"learn_tau": "channel", "learn_v_th": "channel"})")));
        a.init(5);
        b.init(5);
        for (language_model* m : {&a, &b})
            for (auto& p : m->parameters())
                if (p.name.ends_with(".bn.bias")) p.value->fill(0.75f);
        std::vector<float> la(2 * 6 * 17), lb(la.size()), d(la.size());
        a.forward(la.data(), tokens.data(), 2, 6, {}, true);
        b.forward(lb.data(), tokens.data(), 2, 6, {}, true);
        CHECK(la == lb);
        counter_rng(3).fill_normal(d.data(), d.size(), 0, 0, 0.0f, 1.0f);
        a.zero_grad();
        b.zero_grad();
        a.backward(d.data());
        b.backward(d.data());
        std::map<std::string, std::vector<float>> ga;
        for (auto& p : a.parameters()) ga[p.name] = p.grad->values();
        double learned = 0.0;
        for (auto& p : b.parameters()) {
            if (is_neuron_param(p.name)) {
                for (float g : p.grad->values()) learned += std::abs(g);
                continue;
            }
            CAPTURE(p.name);
            CHECK(ga.at(p.name) == p.grad->values());
        }
        CHECK(learned > 0.0);  // the learned constants get gradient
    }
}

TEST_CASE(
    "learn layer: per-channel and per-layer gradients are the kernel's per-neuron sums reduced and chained to w") {
    const std::size_t T = 3, C = 4, rows = 5, n = rows * C;
    lif_params p;
    p.tau = 2.5f;
    std::vector<float> x(T * n), ds(T * n), s(T * n), dx(T * n);
    counter_rng(11).fill_normal(x.data(), x.size(), 0, 0, 1.3f, 0.9f);
    counter_rng(12).fill_normal(ds.data(), ds.size(), 0, 0, 0.0f, 1.0f);
    for (learn_mode mode : {learn_mode::layer, learn_mode::channel}) {
        CAPTURE(learn_mode_name(mode));
        neuron_layer layer(neuron_kind::lif, p, nilif_params{}, neuron_backend_named("cpu"), "q", C, {mode, mode});
        CHECK(layer.plif_w.data()[0] == plif_w_of_tau(2.5f));
        for (std::size_t i = 0; i < layer.plif_w.size(); ++i) layer.plif_w.data()[i] = 0.1f * float(i) - 0.2f;
        for (std::size_t i = 0; i < layer.v_th.size(); ++i) layer.v_th.data()[i] = 0.9f + 0.05f * float(i);
        layer.forward(s.data(), x.data(), T, n);
        layer.backward(dx.data(), ds.data());
        // the same from the kernel directly
        const std::vector<float> tau = layer.channel_tau(), v_th = layer.channel_v_th();
        std::vector<float> s2(T * n), h2(T * n), dx2(T * n), dtau(n), dv_th(n);
        lif_forward(s2.data(), h2.data(), x.data(), T, n, p, nullptr, {tau.data(), v_th.data(), C});
        CHECK(s2 == s);
        lif_backward(dx2.data(), ds.data(), s2.data(), h2.data(), T, n, p, {tau.data(), v_th.data(), C}, dtau.data(),
                     dv_th.data());
        CHECK(dx2 == dx);
        std::vector<double> gt(C, 0.0), gv(C, 0.0);
        for (std::size_t i = 0; i < n; ++i) gt[i % C] += dtau[i], gv[i % C] += dv_th[i];
        double tt = 0, tv = 0;
        for (std::size_t c = 0; c < C; ++c) {
            if (mode == learn_mode::channel) {
                CHECK(layer.dplif_w.data()[c] ==
                      doctest::Approx(-std::exp(-double(layer.plif_w.data()[c])) * gt[c]).epsilon(1e-6));
                CHECK(layer.dv_th.data()[c] == doctest::Approx(gv[c]).epsilon(1e-6));
            }
            tt += gt[c];
            tv += gv[c];
        }
        if (mode == learn_mode::layer) {
            CHECK(layer.dplif_w.data()[0] ==
                  doctest::Approx(-std::exp(-double(layer.plif_w.data()[0])) * tt).epsilon(1e-6));
            CHECK(layer.dv_th.data()[0] == doctest::Approx(tv).epsilon(1e-6));
        }
        CHECK(std::abs(tt) > 1e-3);
        CHECK(std::abs(tv) > 1e-3);
    }
}

TEST_CASE("learn optimizer: neuron_lr_scale scales the neuron constants' updates, which get no weight decay") {
    adamw_config cfg;
    cfg.lr = 0.1;
    cfg.warmup = 1;
    cfg.total = 10;
    cfg.clip = 0;
    cfg.weight_decay = 0.5;
    cfg.neuron_lr_scale = 0.25;
    tensor<float> w({1}, {1.0f}), tw({1}, {1.0f}), v({1}, {1.0f}), g({1}, {0.5f});
    std::vector<param_ref> params{
        {"blocks.0.attn.q.weight", &w, &g}, {"blocks.0.q.plif_w", &tw, &g}, {"blocks.0.q.v_th", &v, &g}};
    adamw opt(cfg);
    opt.step(params);
    // step 1: update = sign(g) = 1; the weight decays, the neuron constants do not and move at lr x 0.25
    CHECK(w.data()[0] == doctest::Approx(1.0 - 0.1 * (1.0 + 0.5 * 1.0)));
    CHECK(tw.data()[0] == doctest::Approx(1.0 - 0.025));
    CHECK(v.data()[0] == doctest::Approx(1.0 - 0.025));
    CHECK(is_neuron_param("final.v_th"));
    CHECK_FALSE(is_neuron_param("blocks.0.attn.q.weight"));
    CHECK_FALSE(decays("blocks.0.q.plif_w"));
    // the scenario key, and its refusal for a model that learns no neuron constant
    const train_scenario s = parse_train_scenario(
        R"({"model": {"lif": {"learn_v_th": "channel"}}, "train": {"neuron_lr_scale": 0.1}})", "s.json");
    CHECK(s.opt.neuron_lr_scale == 0.1);
    CHECK(parse_train_scenario(R"({"model": {}})", "s.json").opt.neuron_lr_scale == 1.0);
    try {
        parse_train_scenario(R"({"train": {"neuron_lr_scale": 0.1}})", "s.json");
        FAIL("accepted");
    } catch (const config_error& e) {
        CHECK(std::string(e.what()) ==
              "s.json: /train/neuron_lr_scale = 0.1, the model learns no neuron constants "
              "(set /model/lif/learn_tau or learn_v_th)");
    }
}

TEST_CASE("learn optimizer: on a model, neuron_lr_scale moves the learned constants by that factor and nothing else") {
    const model_config cfg =
        model_config::from_json(config(R"("lif": {"learn_tau": "channel", "learn_v_th": "channel"})"));
    const std::vector<std::int32_t> tokens{1, 5, 9, 2, 7, 3, 4, 12, 6, 8, 11, 0};
    std::map<std::string, std::vector<float>> start, moved[2];
    for (int run = 0; run < 2; ++run) {
        language_model m(cfg);
        m.init(9);
        for (auto& p : m.parameters())
            if (p.name.ends_with(".bn.bias")) p.value->fill(0.75f);
        for (auto& p : m.parameters()) start[p.name] = p.value->values();
        std::vector<float> logits(2 * 6 * 17), d(logits.size());
        m.zero_grad();
        m.forward(logits.data(), tokens.data(), 2, 6, {}, true);
        counter_rng(4).fill_normal(d.data(), d.size(), 0, 0, 0.0f, 0.1f);
        m.backward(d.data());
        adamw_config oc;
        oc.warmup = 1;
        oc.neuron_lr_scale = run == 0 ? 1.0 : 0.125;
        adamw opt(oc);
        auto params = m.parameters();
        opt.step(params);
        for (auto& p : m.parameters()) moved[run][p.name] = p.value->values();
    }
    std::size_t neuron_elements = 0;
    for (const auto& [name, w0] : start) {
        CAPTURE(name);
        for (std::size_t i = 0; i < w0.size(); ++i) {
            const double full = moved[0][name][i] - w0[i], scaled = moved[1][name][i] - w0[i];
            if (is_neuron_param(name)) {
                if (full == 0.0) continue;  // no gradient for this element
                ++neuron_elements;
                CHECK(std::abs(scaled - 0.125 * full) <= 4e-7);  // one float rounding of w near 1
            } else {
                CHECK(scaled == full);
            }
        }
    }
    CHECK(neuron_elements > 100);
}
