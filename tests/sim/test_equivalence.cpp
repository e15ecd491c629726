// docs/model.md §6's contract: on the same checkpoint and tokens, the event-driven simulator's logits equal the
// trainer's evaluation forward (BN with running statistics; the simulator folds BN into its weights)
// within 1e-4 of the largest logit, and its operation counts — rebuilt from its own events — equal the
// trainer's docs/model.md §7 counts, for every attention kind and both neuron kinds; results do not depend on the
// backend or the thread count.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "sim/engine.hpp"
#include "sim/report_inputs.hpp"
#include "training/language_model.hpp"

using namespace wtasim;

namespace {
struct fixture {
    model_config cfg;
    checkpoint ckpt;
    std::vector<std::vector<std::int32_t>> seqs;
    std::vector<float> trainer_logits;
    op_counts trainer_counts;
    std::vector<block_spikes> trainer_spikes;
    std::uint64_t trainer_final_spikes = 0;
};

fixture make(const std::string& model_json) {
    fixture f;
    f.cfg = model_config::from_json(model_json);
    language_model m(f.cfg);
    m.init(23);
    const counter_rng rng(24);
    std::uint64_t stream = 0;
    for (auto& p : m.parameters()) {
        if (p.name.ends_with(".bn.bias")) p.value->fill(1.0f);  // layers that fire, attention output too
        if (p.name.ends_with(".bn.weight")) rng.fill_uniform(p.value->data(), p.value->size(), stream++, 0, 0.8f, 1.2f);
        if (p.name.ends_with(".plif_w"))  // learned constants away from their start: tau from about 1.6 to 2.6
            rng.fill_uniform(p.value->data(), p.value->size(), stream++, 0, -0.5f, 0.5f);
        if (p.name.ends_with(".v_th")) {
            std::vector<float> scale(p.value->size());
            rng.fill_uniform(scale.data(), scale.size(), stream++, 0, 0.75f, 1.25f);
            for (std::size_t i = 0; i < scale.size(); ++i) p.value->data()[i] *= scale[i];
        }
    }
    for (auto& b : m.buffers()) {  // trained-looking running statistics
        if (b.name.ends_with("running_mean"))
            rng.fill_normal(b.value->data(), b.value->size(), stream++, 0, 0.0f, 0.3f);
        if (b.name.ends_with("running_var"))
            rng.fill_uniform(b.value->data(), b.value->size(), stream++, 0, 0.5f, 2.0f);
        // running-rms keeps a zero mean and a running mean square; none keeps (0, 1) for ever
        if (f.cfg.block.norm != norm_kind::batch && b.name.ends_with("running_mean")) b.value->fill(0.0f);
        if (f.cfg.block.norm == norm_kind::none && b.name.ends_with("running_var")) b.value->fill(1.0f);
    }
    const std::size_t B = 3, N = 7, V = f.cfg.vocab;
    std::vector<std::int32_t> tokens(B * N);
    for (std::size_t i = 0; i < tokens.size(); ++i)
        tokens[i] = static_cast<std::int32_t>(rng.below(99, i, static_cast<std::uint32_t>(V)));
    for (std::size_t b = 0; b < B; ++b) f.seqs.emplace_back(tokens.begin() + b * N, tokens.begin() + (b + 1) * N);
    f.trainer_logits.resize(B * N * V);
    m.forward(f.trainer_logits.data(), tokens.data(), B, N, {}, false);
    f.trainer_counts = m.counts();
    f.trainer_spikes = m.block_spike_counts();
    f.trainer_final_spikes = m.final_spike_count();
    f.ckpt = weights_checkpoint(m);
    return f;
}

// Everything a result holds, bit for bit: logits, counts (total, per step, per layer), events per layer and
// per step, winners, and the recorded spikes and membranes.
void check_same(const sim_result& a, const sim_result& b) {
    REQUIRE(a.logits.size() == b.logits.size());
    CHECK(std::memcmp(a.logits.data(), b.logits.data(), a.logits.size() * 4) == 0);
    CHECK(a.total == b.total);
    CHECK(a.per_step == b.per_step);
    CHECK(a.winners == b.winners);
    REQUIRE(a.layers.size() == b.layers.size());
    for (std::size_t l = 0; l < a.layers.size(); ++l) {
        CAPTURE(a.layers[l].name);
        CHECK(a.layers[l].name == b.layers[l].name);
        CHECK(a.layers[l].ops == b.layers[l].ops);
        CHECK(a.layers[l].events == b.layers[l].events);
        CHECK(a.layers[l].neurons == b.layers[l].neurons);
        CHECK(a.layers[l].active == b.layers[l].active);
        CHECK(a.layers[l].step_events == b.layers[l].step_events);
    }
    REQUIRE(a.spikes.size() == b.spikes.size());
    for (std::size_t l = 0; l < a.spikes.size(); ++l) {
        CAPTURE(a.spikes[l].name);
        CHECK(a.spikes[l].step == b.spikes[l].step);
        CHECK(a.spikes[l].token == b.spikes[l].token);
        CHECK(a.spikes[l].neuron == b.spikes[l].neuron);
        REQUIRE(a.spikes[l].membrane.size() == b.spikes[l].membrane.size());
        CHECK(std::memcmp(a.spikes[l].membrane.data(), b.spikes[l].membrane.data(), a.spikes[l].membrane.size() * 4) ==
              0);
    }
}

// The cpu backend's layer-major engine against the step-major reference, with and without recording.
void check_cpu_equals_reference(const sim_network& net, const std::vector<std::vector<std::int32_t>>& seqs) {
    for (bool record : {false, true}) {
        const auto ref = simulate_batch(net, seqs, sim_backend_named("reference").schedule, nullptr, record, record);
        for (std::size_t threads : {1u, 2u}) {
            thread_limit limit(threads);
            const auto cpu = simulate_batch(net, seqs, sim_backend_named("cpu").schedule, nullptr, record, record);
            REQUIRE(cpu.size() == ref.size());
            for (std::size_t i = 0; i < cpu.size(); ++i) {
                CAPTURE(i);
                CHECK(cpu[i].spikes.empty() != record);
                check_same(cpu[i], ref[i]);
            }
        }
    }
}

void check_equivalent(const std::string& model_json) {
    const fixture f = make(model_json);
    const sim_network net = sim_network::from_checkpoint(f.ckpt, "fixture");
    const auto results = simulate_batch(net, f.seqs, sim_backend_named("cpu").schedule);
    std::vector<float> logits;
    op_counts counts;
    for (const auto& r : results) {
        logits.insert(logits.end(), r.logits.begin(), r.logits.end());
        counts += r.total;
    }
    REQUIRE(logits.size() == f.trainer_logits.size());
    double scale = 0, worst = 0;
    for (float v : f.trainer_logits) scale = std::max(scale, double(std::abs(v)));
    for (std::size_t i = 0; i < logits.size(); ++i)
        worst = std::max(worst, double(std::abs(logits[i] - f.trainer_logits[i])));
    CHECK(worst <= 1e-4 * scale);
    for (std::size_t c = 0; c < n_op_classes; ++c) {
        CAPTURE(op_class_name(static_cast<op_class>(c)));
        CHECK(counts.n[c] == f.trainer_counts.n[c]);
    }
    CHECK(counts[op_class::ac] > 0);
    // spike counts per layer equal the trainer's
    auto events_of = [&](const std::string& name) {
        std::uint64_t e = 0;
        for (const auto& r : results)
            for (const auto& l : r.layers)
                if (l.name == name) e += l.events;
        return e;
    };
    for (std::size_t l = 0; l < f.trainer_spikes.size(); ++l) {
        const std::string p = "blocks." + std::to_string(l) + ".";
        const block_spikes& t = f.trainer_spikes[l];
        CAPTURE(l);
        CHECK(events_of(p + "sn1") == t.s1);
        CHECK(events_of(p + "attn.sn_q") == t.q);
        CHECK(events_of(p + "attn.sn_k") == t.k);
        CHECK(events_of(p + "attn.sn_v") == t.v);
        CHECK(events_of(p + "attn.sn_a") == t.z);
        CHECK(events_of(p + "sn2") == t.s2);
        CHECK(events_of(p + "mlp.sn_h") == t.h);
        CHECK(t.z > 0);
    }
    CHECK(events_of("sn_final") == f.trainer_final_spikes);
    // the reference backend and any thread count give the same bits
    for (std::size_t threads : {1u, 2u}) {
        thread_limit limit(threads);
        const auto again = simulate_batch(net, f.seqs, sim_backend_named(threads == 1 ? "reference" : "cpu").schedule);
        for (std::size_t i = 0; i < again.size(); ++i) {
            CHECK(std::memcmp(again[i].logits.data(), results[i].logits.data(), again[i].logits.size() * 4) == 0);
            CHECK(again[i].total == results[i].total);
        }
    }
    check_cpu_equals_reference(net, f.seqs);
    // so does every other backend of this build (the kernel engine emulated on the host; on a GPU, cuda), with
    // every layer's counts and the winners; softmax on the GPU within 1e-4 (its expf is another function)
    for (const std::string& name : sim_backend_names()) {
        CAPTURE(name);
        const auto again = simulate_batch(net, f.seqs, sim_backend_named(name).schedule);
        REQUIRE(again.size() == results.size());
        const bool loose = name == "cuda" && net.cfg.block.attn.kind == attention_kind::softmax;
        for (std::size_t i = 0; i < again.size(); ++i) {
            if (!loose)
                CHECK(std::memcmp(again[i].logits.data(), results[i].logits.data(), again[i].logits.size() * 4) == 0);
            for (std::size_t j = 0; loose && j < again[i].logits.size(); ++j)
                CHECK(std::abs(again[i].logits[j] - results[i].logits[j]) <= 1e-4 * scale);
            CHECK(again[i].total == results[i].total);
            CHECK(again[i].per_step == results[i].per_step);
            CHECK(again[i].winners == results[i].winners);
            REQUIRE(again[i].layers.size() == results[i].layers.size());
            for (std::size_t l = 0; l < again[i].layers.size(); ++l) {
                CHECK(again[i].layers[l].ops == results[i].layers[l].ops);
                CHECK(again[i].layers[l].events == results[i].layers[l].events);
            }
        }
    }
}

const char* base = R"("vocab": 40, "d_model": 16, "heads": 2, "d_ff": 32, "layers": 2, "T": 3, "max_len": 8)";
std::string config(const std::string& rest) {
    return std::string("{") + base + ", " + rest + "}";
}
}  // namespace

TEST_CASE("sim: WD-Spikingformer (CWSSA, LIF) equals the trainer") {
    check_equivalent(config(R"("causal": true, "neuron": "lif", "attention": {"kind": "wta", "k": 1})"));
}
TEST_CASE("sim: WE-Spikingformer (WSSA k=2, NI-LIF) equals the trainer") {
    check_equivalent(
        config(R"("causal": false, "neuron": "nilif", "attention": {"kind": "wta", "k": 2, "v_th_attn": 0.25})"));
}
TEST_CASE("sim: widths that are not multiples of eight (the event scan's tail) equal the trainer") {
    const char* odd = R"("vocab": 40, "d_model": 12, "heads": 2, "d_ff": 20, "layers": 2, "T": 3, "max_len": 8)";
    check_equivalent(std::string("{") + odd + R"(, "causal": true, "neuron": "lif", "attention": {"kind": "wta"}})");
    check_equivalent(
        std::string("{") + odd +
        R"(, "causal": false, "neuron": "nilif", "attention": {"kind": "wta", "k": 2, "v_th_attn": 0.25}})");
}
TEST_CASE("sim: the cpu engine's groups (sequences of 1 to 8 tokens, several groups per thread) equal the reference") {
    // wide: heads of 68 channels (two words per token in the single-winner scan), bidirectional; tiled:
    // widths in whole 64-output tiles, where the cpu engine fuses Q, K, V and fc1 with their LIF neurons
    // (hard reset, and soft reset with the recency bias), o and fc2 with the residual add and the LIF after
    // it; tiled_t1: the same with one step per token (every row starts a token's membranes) and a residual
    // head of 150 outputs (panels in three tiles and a scalar tail)
    const std::string wide = R"({"vocab": 40, "d_model": 136, "heads": 2, "d_ff": 32, "layers": 1, "T": 2,
        "max_len": 8, "causal": false, "neuron": "lif", "attention": {"kind": "wta", "k": 1}})";
    const std::string tiled = R"({"vocab": 40, "d_model": 128, "heads": 4, "d_ff": 256, "layers": 2, "T": 2,
        "max_len": 8, "causal": true, "neuron": "lif", "attention": {"kind": "wta", "k": 1}})";
    const std::string tiled_soft = R"({"vocab": 40, "d_model": 64, "heads": 2, "d_ff": 128, "layers": 1, "T": 3,
        "max_len": 8, "causal": true, "neuron": "lif", "lif": {"reset": "soft", "decay_input": false},
        "attention": {"kind": "wta", "k": 1, "recency": "shift+bias", "bias": [2, 1], "fill": true}})";
    const std::string tiled_t1 = R"({"vocab": 150, "d_model": 64, "heads": 2, "d_ff": 128, "layers": 2, "T": 1,
        "max_len": 8, "causal": true, "neuron": "lif", "readout": "residual", "attention": {"kind": "wta", "k": 1}})";
    for (const std::string& model :
         {config(R"("causal": true, "neuron": "lif", "attention": {"kind": "wta", "k": 1})"),
          config(R"("causal": false, "neuron": "nilif", "readout": "residual",
                    "attention": {"kind": "wta", "k": 2, "v_th_attn": 0.25, "recency": "shift"})"),
          config(R"("causal": false, "neuron": "lif", "attention": {"kind": "wta", "k": 1, "v_th_qk": 0.5})"), wide,
          tiled, tiled_soft, tiled_t1}) {
        CAPTURE(model);
        const fixture f = make(model);
        const sim_network net = sim_network::from_checkpoint(f.ckpt, "fixture");
        // 3 steps x 4.5 tokens on average x 100 sequences: 1350 rows, more than one group of the engine
        // (the wide model's 900 rows make one group at one thread and two at two)
        std::vector<std::vector<std::int32_t>> seqs;
        const counter_rng rng(7);
        for (std::uint64_t s = 0; s < 100; ++s) {
            std::vector<std::int32_t> q(1 + rng.below(5, s, 8));
            for (std::size_t n = 0; n < q.size(); ++n)
                q[n] = static_cast<std::int32_t>(rng.below(6, s * 8 + n, static_cast<std::uint32_t>(f.cfg.vocab)));
            seqs.push_back(q);
        }
        check_cpu_equals_reference(net, seqs);
    }
}
TEST_CASE("sim: SSA and softmax kinds equal the trainer") {
    check_equivalent(config(R"("causal": true, "neuron": "lif", "attention": {"kind": "ssa", "v_th_attn": 0.0625})"));
    check_equivalent(
        config(R"("causal": false, "neuron": "nilif", "attention": {"kind": "softmax", "v_th_attn": 0.125})"));
}
TEST_CASE("sim: the K/V token shift (attention recency \"shift\") equals the trainer, causal and bidirectional") {
    check_equivalent(
        config(R"("causal": true, "neuron": "lif", "attention": {"kind": "wta", "k": 1, "recency": "shift"})"));
    check_equivalent(config(
        R"("causal": false, "neuron": "nilif", "attention": {"kind": "wta", "k": 2, "v_th_attn": 0.25, "recency": "shift"})"));
    check_equivalent(config(
        R"("causal": true, "neuron": "lif", "attention": {"kind": "ssa", "v_th_attn": 0.0625, "recency": "shift"})"));
}
TEST_CASE("sim: the recency bias, with fill and with the token shift, equals the trainer") {
    check_equivalent(config(R"("causal": true, "neuron": "lif", "attention": {"kind": "wta", "k": 1, "recency": "bias",
        "bias": [2, 1]})"));
    check_equivalent(config(R"("causal": true, "neuron": "lif", "attention": {"kind": "wta", "k": 2, "recency": "bias",
        "bias": [3, 2, 1], "fill": true})"));
    check_equivalent(
        config(R"("causal": false, "neuron": "nilif", "attention": {"kind": "wta", "k": 1, "v_th_attn": 0.25,
        "recency": "shift+bias", "bias": [1], "fill": true})"));
}
TEST_CASE("sim: Q and K neurons with their own threshold equal the trainer") {
    check_equivalent(config(R"("causal": true, "neuron": "lif", "attention": {"kind": "wta", "v_th_qk": 0.5})"));
    check_equivalent(config(R"("causal": false, "neuron": "nilif", "attention": {"kind": "wta", "k": 2, "v_th_qk": 0.75,
        "v_th_attn": 0.25, "recency": "shift+bias", "fill": true})"));
}
TEST_CASE("sim: the running-rms and no-normalisation models equal the trainer") {
    check_equivalent(config(R"("causal": true, "neuron": "lif", "norm": "running-rms", "attention": {"kind": "wta"})"));
    check_equivalent(config(R"("causal": false, "neuron": "nilif", "norm": "none", "attention": {"kind": "wta", "k": 2,
        "v_th_attn": 0.25})"));
    check_equivalent(config(R"("causal": true, "neuron": "lif", "norm": "none", "readout": "residual",
        "attention": {"kind": "wta", "recency": "shift"})"));
}
TEST_CASE("sim: the readouts \"levels\" (NI-LIF final neuron after LIF blocks) and \"residual\" equal the trainer") {
    check_equivalent(config(R"("causal": true, "neuron": "lif", "readout": "levels", "attention": {"kind": "wta"})"));
    check_equivalent(config(R"("causal": true, "neuron": "lif", "readout": "residual", "attention": {"kind": "wta"})"));
    check_equivalent(config(R"("causal": false, "neuron": "nilif", "readout": "residual", "attention": {"kind": "wta",
        "k": 2, "v_th_attn": 0.25})"));
    // the energy report names the readout when it is not "spikes"
    for (const char* kind : {"spikes", "levels", "residual"}) {
        const fixture f = make(config(std::string(R"("readout": ")") + kind + "\""));
        const sim_network net = sim_network::from_checkpoint(f.ckpt, "fixture");
        const std::string model = simulated_energy(f.ckpt, f.cfg, f.seqs, simulate_batch(net, f.seqs)).model;
        CAPTURE(model);
        CHECK(model.ends_with(std::string(kind) == "spikes" ? ", T 3" : std::string(", readout ") + kind));
    }
}
TEST_CASE("sim: learned per-channel and per-layer tau and v_th equal the trainer (LIF and NI-LIF models)") {
    const char* learned[] = {
        R"("causal": true, "neuron": "lif", "attention": {"kind": "wta", "k": 1},
           "lif": {"learn_tau": "channel", "learn_v_th": "channel"})",
        R"("causal": true, "neuron": "lif", "attention": {"kind": "wta", "k": 2, "v_th_qk": 0.75, "recency": "shift"},
           "lif": {"learn_tau": "layer", "learn_v_th": "channel", "reset": "soft", "decay_input": false})",
        R"("causal": false, "neuron": "nilif", "attention": {"kind": "wta", "k": 2, "v_th_attn": 0.25},
           "lif": {"learn_tau": "channel", "learn_v_th": "layer"})",
        R"("causal": true, "neuron": "lif", "readout": "levels", "attention": {"kind": "ssa", "v_th_attn": 0.0625},
           "lif": {"learn_v_th": "channel", "layer_alpha": {"q": 2.0}})"};
    for (const char* rest : learned) {
        CAPTURE(rest);
        check_equivalent(config(rest));
        // the simulator really runs the learned values: without them its spikes differ from the trainer's
        const fixture f = make(config(rest));
        sim_network net = sim_network::from_checkpoint(f.ckpt, "fixture");
        std::size_t with_constants = 0;
        for (auto& b : net.blocks)
            for (auto& k : b.neurons) {
                with_constants += !k.tau.empty() || !k.v_th.empty();
                k = {};
            }
        net.final_neuron = {};
        CHECK(with_constants == (std::string(rest).find("nilif") != std::string::npos ? 4u : 7u) * f.cfg.L);
        std::uint64_t events = 0, trainer_events = f.trainer_final_spikes;
        for (const auto& t : f.trainer_spikes) trainer_events += t.s1 + t.q + t.k + t.v + t.z + t.s2 + t.h;
        for (const auto& r : simulate_batch(net, f.seqs))
            for (const auto& l : r.layers) events += l.events;
        CHECK(events != trainer_events);
    }
    // a checkpoint whose config learns constants but lacks them is refused, naming the tensor
    fixture f = make(config(R"("lif": {"learn_tau": "channel"})"));
    f.ckpt.params.erase("blocks.1.a.plif_w");
    CHECK_THROWS_WITH_AS(sim_network::from_checkpoint(f.ckpt, "x.h5"), doctest::Contains("blocks.1.a.plif_w"),
                         io_error);
}
TEST_CASE("sim: an ANN twin checkpoint and broken checkpoints are refused with the reason") {
    fixture f = make(config(R"("causal": true, "neuron": "lif")"));
    f.ckpt.params.erase("blocks.1.attn.k.weight");
    CHECK_THROWS_WITH_AS(sim_network::from_checkpoint(f.ckpt, "x.h5"),
                         "x.h5: /params/blocks.1.attn.k.weight is missing", io_error);
    checkpoint ann;
    ann.config = model_config::from_json(R"({"spiking": false, "T": 1})").to_json();
    CHECK_THROWS_AS(sim_network::from_checkpoint(ann, "ann.h5"), config_error);
}
