// docs/model.md §6's contract for fine-tuned checkpoints: a checkpoint whose config names a task runs its task head
// (task.<name>.weight / bias) in the event-driven simulator; the outputs equal the trainer's evaluation
// forward_task within 1e-4 of the largest |output| (sequence readout: one row per sequence, the mean over t and
// over the real tokens; token readout: one row per token), and the simulator's operation counts equal the
// trainer's docs/model.md §7 counts of the head it used, class by class. The trainer runs a padded batch of sequences
// of different lengths (its pooling and attention must skip the padding); the simulator runs each sequence
// alone, unpadded. Streaming generation refuses a task checkpoint (it has no LM head to generate with).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "sim/engine.hpp"
#include "sim/stream.hpp"
#include "training/language_model.hpp"

using namespace wtasim;

namespace {
struct fixture {
    model_config cfg;
    checkpoint ckpt;
    std::vector<std::vector<std::int32_t>> seqs;
    std::vector<std::vector<float>> trainer_out;  // per sequence: [C] or [len, C]
    op_counts trainer_counts;
    std::uint64_t trainer_final_spikes = 0;
};

// A model with its task head, BN running statistics moved by a few training-mode forwards, then the trainer's
// evaluation forward on a padded batch (lengths 7, 5, 3).
fixture make(const std::string& model_json) {
    fixture f;
    f.cfg = model_config::from_json(model_json);
    REQUIRE(!f.cfg.task.empty());
    language_model m(f.cfg);
    m.init(31);
    const counter_rng rng(32);
    std::uint64_t stream = 0;
    for (auto& p : m.parameters()) {
        if (p.name.ends_with(".bn.bias")) p.value->fill(1.0f);  // layers that fire
        if (p.name.ends_with(".bn.weight")) rng.fill_uniform(p.value->data(), p.value->size(), stream++, 0, 0.8f, 1.2f);
        if (p.name.starts_with("task.") && p.name.ends_with(".bias"))  // a bias that matters in the comparison
            rng.fill_uniform(p.value->data(), p.value->size(), stream++, 0, -0.5f, 0.5f);
    }
    const std::size_t V = f.cfg.vocab, C = f.cfg.task_outputs, N = 7;
    const std::vector<std::size_t> lengths{7, 5, 3};
    const std::size_t B = lengths.size();
    // training-mode forwards: the running statistics move away from (0, 1)
    for (std::uint64_t it = 0; it < 3; ++it) {
        std::vector<std::int32_t> tokens(4 * N);
        for (std::size_t i = 0; i < tokens.size(); ++i)
            tokens[i] = static_cast<std::int32_t>(rng.below(90 + it, i, static_cast<std::uint32_t>(V)));
        std::vector<float> out(m.task_rows(4, N) * C);
        m.forward_task(out.data(), tokens.data(), 4, N, {}, true);
    }
    double moved = 0;
    for (auto& b : m.buffers())
        if (b.name.ends_with("running_mean"))
            for (float v : b.value->values()) moved += std::abs(v);
    CHECK(moved > 0.0);

    std::vector<std::int32_t> tokens(B * N, 0);
    std::vector<std::uint8_t> mask(B * N, 0);
    for (std::size_t b = 0; b < B; ++b) {
        std::vector<std::int32_t> s;
        for (std::size_t n = 0; n < lengths[b]; ++n)
            s.push_back(static_cast<std::int32_t>(rng.below(99, b * N + n, static_cast<std::uint32_t>(V))));
        std::copy(s.begin(), s.end(), tokens.begin() + static_cast<std::ptrdiff_t>(b * N));
        std::fill_n(mask.begin() + static_cast<std::ptrdiff_t>(b * N), lengths[b], 1);
        for (std::size_t n = lengths[b]; n < N; ++n)  // padding with real-looking ids: must not matter
            tokens[b * N + n] = static_cast<std::int32_t>(rng.below(98, b * N + n, static_cast<std::uint32_t>(V)));
        f.seqs.push_back(s);
    }
    const bool token_rows = f.cfg.task_readout == "token";
    REQUIRE(m.task_rows(B, N) == (token_rows ? B * N : B));
    std::vector<float> out(m.task_rows(B, N) * C);
    m.forward_task(out.data(), tokens.data(), B, N, mask, false);
    f.trainer_counts = m.counts();
    f.trainer_final_spikes = m.final_spike_count();
    for (std::size_t b = 0; b < B; ++b) {
        const auto first = out.begin() + static_cast<std::ptrdiff_t>((token_rows ? b * N : b) * C);
        f.trainer_out.emplace_back(first, first + static_cast<std::ptrdiff_t>((token_rows ? lengths[b] : 1) * C));
    }
    f.ckpt = weights_checkpoint(m);
    return f;
}

void check_task_head(const std::string& model_json) {
    const fixture f = make(model_json);
    const std::size_t C = f.cfg.task_outputs;
    const bool token_rows = f.cfg.task_readout == "token";
    const sim_network net = sim_network::from_checkpoint(f.ckpt, "fixture");
    CHECK(net.task_head);
    CHECK(net.head_outputs == C);
    CHECK(net.pooled == !token_rows);
    op_counts counts;
    double scale = 0, worst = 0;
    std::uint64_t final_events = 0;
    for (std::size_t s = 0; s < f.seqs.size(); ++s) {
        CAPTURE(s);
        const sim_result r = simulate(net, f.seqs[s]);
        // the sequence readout gives exactly one output row, the token readout one per token
        REQUIRE(r.logits.size() == (token_rows ? f.seqs[s].size() : 1) * C);
        REQUIRE(f.trainer_out[s].size() == r.logits.size());
        for (std::size_t i = 0; i < r.logits.size(); ++i) {
            scale = std::max(scale, double(std::abs(f.trainer_out[s][i])));
            worst = std::max(worst, double(std::abs(r.logits[i] - f.trainer_out[s][i])));
        }
        op_counts layers;
        for (const auto& l : r.layers) {
            layers += l.ops;
            if (l.name == "sn_final") final_events += l.events;
        }
        CHECK(layers == r.total);
        counts += r.total;
    }
    CHECK(scale > 0.0);
    CHECK(worst <= 1e-4 * scale);
    for (std::size_t c = 0; c < n_op_classes; ++c) {
        CAPTURE(op_class_name(static_cast<op_class>(c)));
        CHECK(counts.n[c] == f.trainer_counts.n[c]);
    }
    CHECK(final_events == f.trainer_final_spikes);
    if (f.cfg.readout != "residual")  // "residual" has no final neuron; its head reads X (docs/model.md §10)
        CHECK(final_events > 0);      // the head saw events: the comparison is not between two bias vectors
}

const char* base = R"("vocab": 30, "d_model": 16, "heads": 2, "d_ff": 32, "layers": 2, "T": 3, "max_len": 8)";
std::string config(const std::string& rest) {
    return std::string("{") + base + ", " + rest + "}";
}
const char* wd_lif = R"("causal": true, "neuron": "lif", "attention": {"kind": "wta", "k": 1})";
const char* we_nilif = R"("causal": false, "neuron": "nilif", "attention": {"kind": "wta", "k": 1})";
}  // namespace

TEST_CASE("sim task heads: sequence readout (CWSSA k=1, LIF) equals the trainer, one row per sequence") {
    check_task_head(config(std::string(wd_lif) + R"(, "task": {"name": "cls", "readout": "sequence", "outputs": 3})"));
}
TEST_CASE("sim task heads: token readout (CWSSA k=1, LIF) equals the trainer, one row per token") {
    check_task_head(config(std::string(wd_lif) + R"(, "task": {"name": "tags", "readout": "token", "outputs": 4})"));
}
TEST_CASE("sim task heads: bidirectional NI-LIF, both readouts, equal the trainer") {
    check_task_head(
        config(std::string(we_nilif) + R"(, "task": {"name": "cls", "readout": "sequence", "outputs": 3})"));
    check_task_head(config(std::string(we_nilif) + R"(, "task": {"name": "tags", "readout": "token", "outputs": 4})"));
}
TEST_CASE("sim task heads: readouts \"levels\" and \"residual\", both task readouts, equal the trainer") {
    for (const char* r : {R"(, "readout": "levels")", R"(, "readout": "residual")"}) {
        CAPTURE(r);
        check_task_head(
            config(std::string(wd_lif) + r + R"(, "task": {"name": "cls", "readout": "sequence", "outputs": 3})"));
        check_task_head(
            config(std::string(we_nilif) + r + R"(, "task": {"name": "tags", "readout": "token", "outputs": 4})"));
    }
}
TEST_CASE("sim task heads: a missing task head is named; streaming refuses a task checkpoint") {
    fixture f = make(config(std::string(wd_lif) + R"(, "task": {"name": "cls", "readout": "sequence", "outputs": 3})"));
    {
        const sim_network net = sim_network::from_checkpoint(f.ckpt, "ft.h5");
        CHECK_THROWS_AS(stream_decoder{net}, config_error);
    }
    // the same weights without the task in the config: a pretrained checkpoint, streaming works
    checkpoint lm = f.ckpt;
    model_config plain = f.cfg;
    plain.task.clear();
    plain.task_outputs = 0;
    lm.config = plain.to_json();
    const sim_network lm_net = sim_network::from_checkpoint(lm, "lm.h5");
    CHECK_FALSE(lm_net.task_head);
    CHECK(lm_net.head_outputs == f.cfg.vocab);
    stream_decoder decoder(lm_net);
    CHECK(decoder.push(f.seqs[0][0]).size() == f.cfg.vocab);
    f.ckpt.params.erase("task.cls.weight");
    CHECK_THROWS_WITH_AS(sim_network::from_checkpoint(f.ckpt, "ft.h5"), "ft.h5: /params/task.cls.weight is missing",
                         io_error);
}
