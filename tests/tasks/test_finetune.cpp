// Fine-tuning (training/finetune.hpp) checked independently of its own arithmetic:
// - task-head gradients (sequence pooling over real tokens, per-token tagging) against central finite differences,
//   for the ANN twin down to the embeddings and a block weight, for a spiking model on the head (spikes do not
//   depend on it); padding changes nothing, neither outputs nor the gradient of a padding-only embedding row;
// - multiple choice: log-likelihoods recomputed by hand from logits, acc / acc_norm on hand-built scores, and the
//   choice loss's gradient direction recovered from one AdamW step of `finetune` against finite differences;
// - encode_example with a tokenizer trained here: specials, trimming, first-piece tags, answer spans, choices;
// - `finetune` learns a word-detection task (label = the sentence contains "dog") above the majority rate.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "common/finite_difference.hpp"
#include "core/error.hpp"
#include "tasks/finetune.hpp"
#include "tasks/predict.hpp"
#include "tasks/score.hpp"
#include "training/objectives.hpp"

using namespace wtasim;

namespace {
const std::vector<std::string> sentences = {
    "The dog runs in the park.",
    "A cat sleeps on the warm mat.",
    "My brother reads a book every night.",
    "The old dog barks at the mail man.",
    "We walk to school in the morning.",
    "She gave the dog a bone.",
    "Birds sing in the tall green trees.",
    "The river flows past our small town.",
    "His dog likes to swim in the lake.",
    "It rained all day and all night.",
    "The children play games after lunch.",
    "A brown dog sat by the door.",
    "They cook rice and beans for dinner.",
    "The dog and the cat are friends.",
    "My mother bakes bread on Sunday.",
    "The wind was cold on the hill.",
    "Our dog sleeps under the table.",
    "He writes letters to his friends.",
    "The farmer feeds the dog at noon.",
    "Snow covers the roofs in winter.",
    "A small boy lost his red ball.",
    "The dog chased the ball across the yard.",
    "She sings a song to the baby.",
    "The train leaves at nine in the morning.",
    "Nobody saw the dog leave the house.",
    "We planted flowers in the garden.",
    "The teacher read a story to the class.",
    "That dog never stops barking.",
    "The sun sets behind the mountains.",
    "I found a coin on the road.",
    "The dog waits for its owner every day.",
    "Fish swim in the clear blue water.",
    "The shop sells fresh milk and eggs.",
    "A dog can learn many tricks.",
    "The moon was bright last night.",
    "My sister paints pictures of horses.",
    "The lazy dog slept all afternoon.",
    "People crowd the market on Saturday.",
    "The horse pulled the heavy cart.",
    "Every dog in town came to the fair.",
};

const tokenizer& small_tokenizer() {
    static const tokenizer tok = tokenizer::train(sentences, 80);
    return tok;
}

std::string config_json(bool spiking, bool causal, const std::string& readout, std::size_t outputs) {
    return std::string(R"({"vocab": 20, "d_model": 8, "heads": 2, "d_ff": 16, "layers": 1, "max_len": 8, "T": )") +
           (spiking ? "2" : "1") + R"(, "spiking": )" + (spiking ? "true" : "false") + R"(, "causal": )" +
           (causal ? "true" : "false") + R"(, "task": {"name": "t", "readout": ")" + readout + R"(", "outputs": )" +
           std::to_string(outputs) + "}}";
}

// Three sequences of 5, 3 and 4 real tokens in N = 6: position 5 is padding everywhere, and token 19 appears
// only at padded positions.
struct batch {
    std::size_t B = 3, N = 6;
    std::vector<std::int32_t> tokens{5, 9, 2, 14, 7, 19, 3, 11, 6, 19, 19, 19, 8, 1, 17, 4, 19, 19};
    std::vector<std::uint8_t> mask{1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0};
};

// Sequence readout: one class per sequence; token readout: a tag per real token, a few real tokens unlabelled.
std::vector<std::int32_t> targets_for(const language_model& m, const batch& b) {
    if (m.config().task_readout == "sequence") return {0, 2, 1};
    std::vector<std::int32_t> t(b.B * b.N, -1);
    for (std::size_t i = 0; i < t.size(); ++i)
        if (b.mask[i] && i % 4 != 1) t[i] = static_cast<std::int32_t>((i * 7 + 3) % m.config().task_outputs);
    return t;
}

std::vector<float> task_out(language_model& m, const batch& b, bool training) {
    std::vector<float> out(m.task_rows(b.B, b.N) * m.config().task_outputs);
    m.forward_task(out.data(), b.tokens.data(), b.B, b.N, b.mask, training);
    return out;
}

double task_loss(language_model& m, const batch& b, std::vector<float>* dout = nullptr) {
    const std::vector<float> out = task_out(m, b, true);
    const auto targets = targets_for(m, b);
    std::vector<float> d(out.size());
    const loss_result r = cross_entropy(d.data(), out.data(), targets.data(), targets.size(), m.config().task_outputs);
    if (dout) *dout = d;
    return r.loss;
}

param_ref find_param(language_model& m, const std::string& name) {
    for (auto& p : m.parameters())
        if (p.name == name) return p;
    FAIL("no parameter " << name);
    return {};
}

// d loss / d p[idx] by central differences against the analytic gradient already in p.grad.
void check_entries(language_model& m, const batch& b, param_ref p, const std::vector<std::size_t>& indices) {
    CAPTURE(p.name);
    for (std::size_t idx : indices) {
        CAPTURE(idx);
        float& w = p.value->data()[idx];
        const float saved = w;
        const auto numeric = test::central_difference({double(saved)}, 1e-3, [&](const std::vector<double>& xs) {
            w = static_cast<float>(xs[0]);
            return task_loss(m, b);
        });
        w = saved;
        CHECK(std::abs(p.grad->data()[idx] - numeric[0]) <= 1e-4 + 1e-2 * std::abs(numeric[0]));
    }
}

std::vector<std::size_t> all_of(const param_ref& p) {
    std::vector<std::size_t> i(p.value->size());
    for (std::size_t k = 0; k < i.size(); ++k) i[k] = k;
    return i;
}

// Outputs of the real rows only (token readout) or all of them (sequence readout).
std::vector<float> real_rows(const language_model& m, const batch& b, const std::vector<float>& out) {
    if (m.config().task_readout == "sequence") return out;
    std::vector<float> r;
    const std::size_t C = m.config().task_outputs;
    for (std::size_t i = 0; i < b.B * b.N; ++i)
        if (b.mask[i])
            r.insert(r.end(), out.begin() + std::ptrdiff_t(i * C), out.begin() + std::ptrdiff_t((i + 1) * C));
    return r;
}

// Padding changes nothing: other ids at padded positions give the same outputs on real rows, bit for bit.
void check_padding_ignored(language_model& m, const batch& b, bool training) {
    const std::vector<float> before = real_rows(m, b, task_out(m, b, training));
    batch other = b;
    for (std::size_t i = 0; i < other.tokens.size(); ++i)
        if (!other.mask[i]) other.tokens[i] = static_cast<std::int32_t>((i * 5 + 1) % 19);
    CHECK(real_rows(m, other, task_out(m, other, training)) == before);
}
}  // namespace

TEST_CASE("finetune: ANN twin task-head gradients (sequence and token readouts) equal finite differences") {
    for (const char* readout : {"sequence", "token"})
        for (bool causal : {false, true}) {
            CAPTURE(readout);
            CAPTURE(causal);
            language_model m(model_config::from_json(config_json(false, causal, readout, readout[0] == 's' ? 3 : 4)));
            m.init(7);
            param_ref bias = find_param(m, "task.t.bias");
            for (std::size_t c = 0; c < bias.value->size(); ++c) bias.value->data()[c] = 0.1f * float(c) - 0.1f;
            const batch b;
            check_padding_ignored(m, b, false);
            std::vector<float> dout;
            m.zero_grad();
            const double loss = task_loss(m, b, &dout);
            CHECK(std::isfinite(loss));
            m.backward_task(dout.data());
            param_ref w = find_param(m, "task.t.weight");
            check_entries(m, b, w, all_of(w));
            check_entries(m, b, bias, all_of(bias));
            // the embedding row of the first token, and a sample of one block matrix
            const std::size_t D = m.config().D, row = static_cast<std::size_t>(b.tokens[0]);
            std::vector<std::size_t> tok_row;
            for (std::size_t c = 0; c < D; ++c) tok_row.push_back(row * D + c);
            check_entries(m, b, find_param(m, "embed.tok.weight"), tok_row);
            param_ref block_w = find_param(m, "blocks.0.mlp.fc1.weight");
            const std::size_t n = block_w.value->size();
            check_entries(m, b, block_w, {0, 5, n / 3, n / 2, 2 * n / 3, n - 1});
            param_ref q = find_param(m, "blocks.0.attn.q.weight");
            check_entries(m, b, q, {1, q.value->size() / 2, q.value->size() - 2});
            // padding-only rows get exactly no gradient: token 19's embedding and position 5
            param_ref tok = find_param(m, "embed.tok.weight"), pos = find_param(m, "embed.pos.weight");
            for (std::size_t c = 0; c < D; ++c) {
                CHECK(tok.grad->data()[19 * D + c] == 0.0f);
                CHECK(pos.grad->data()[5 * D + c] == 0.0f);
            }
            double reached = 0;
            for (std::size_t c = 0; c < D; ++c) reached += std::abs(tok.grad->data()[row * D + c]);
            CHECK(reached > 0.0);
        }
}

TEST_CASE("finetune: a spiking model's task-head gradient equals finite differences (spikes fixed)") {
    for (const char* readout : {"sequence", "token"}) {
        CAPTURE(readout);
        language_model m(model_config::from_json(config_json(true, false, readout, readout[0] == 's' ? 3 : 4)));
        m.init(8);
        const batch b;
        check_padding_ignored(m, b, true);  // BN batch statistics skip padding too
        check_padding_ignored(m, b, false);
        std::vector<float> dout;
        m.zero_grad();
        task_loss(m, b, &dout);
        REQUIRE(m.final_spike_count() > 0);  // the head sees spikes: its weight gradient is not trivially zero
        m.backward_task(dout.data());
        param_ref w = find_param(m, "task.t.weight");
        double wsum = 0;
        for (float g : w.grad->values()) wsum += std::abs(g);
        CHECK(wsum > 0.0);
        check_entries(m, b, w, all_of(w));
        check_entries(m, b, find_param(m, "task.t.bias"), all_of(find_param(m, "task.t.bias")));
        double tok = 0;
        for (float g : find_param(m, "embed.tok.weight").grad->values()) tok += std::abs(g);
        CHECK(tok > 0.0);  // the surrogate gradient reaches the embeddings from the task head
    }
}

namespace {
// log P(seq[i] | seq[<i]) summed over the continuation, from logits [N, V], by hand (plain log-sum-exp).
double loglik_by_hand(const std::vector<float>& logits, const std::vector<std::int32_t>& seq, std::size_t cont_start,
                      std::size_t V) {
    double ll = 0;
    for (std::size_t i = cont_start; i < seq.size(); ++i) {
        const float* row = logits.data() + (i - 1) * V;
        double z = 0;
        for (std::size_t v = 0; v < V; ++v) z += std::exp(double(row[v]));
        ll += double(row[seq[i]]) - std::log(z);
    }
    return ll;
}

task_data choice_task() {
    task_data t;
    t.name = "mc";
    t.kind = task_kind::multiple_choice;
    t.metric = "acc";
    return t;
}
}  // namespace

TEST_CASE("finetune: multiple-choice log-likelihoods recomputed from logits; acc and acc_norm choose as defined") {
    const task_data task = choice_task();
    task_example e;
    e.contexts = {"a context"};
    e.choices = {"x", "yy", "zzz"};
    e.label = 1;
    encoded_example enc;
    enc.sequences = {{2, 5, 6, 7}, {2, 5, 6, 8, 9}, {2, 5, 6, 7, 8, 9}};
    enc.cont_start = {3, 3, 3};
    const std::size_t V = 10;
    // Uniform logits: every piece costs log 10. A: 1 piece, 1 byte (ll -2.30, per byte -2.30); B: 2 pieces, 10 bytes
    // (-4.61, -0.46); C: 3 pieces, 3 bytes (-6.91, -2.30). acc picks A, acc_norm picks B.
    enc.cont_bytes = {1, 10, 3};
    std::vector<std::vector<float>> uniform;
    for (const auto& s : enc.sequences) uniform.emplace_back(s.size() * V, 0.25f);
    const task_prediction p = decode_outputs(task, e, enc, uniform, V);
    REQUIRE(p.choices.loglik.size() == 3);
    for (std::size_t c = 0; c < 3; ++c)
        CHECK(p.choices.loglik[c] == doctest::Approx(-double(enc.sequences[c].size() - 3) * std::log(10.0)));
    CHECK(p.choices.cont_bytes == enc.cont_bytes);
    CHECK(p.label == 0);
    CHECK(choose_acc(p.choices) == 0);
    CHECK(choose_acc_norm(p.choices) == 1);
    const auto m = task_metrics(task, {e}, {p});
    REQUIRE(m.size() == 2);
    CHECK(m[0] == std::pair<std::string, double>{"acc", 0.0});
    CHECK(m[1] == std::pair<std::string, double>{"acc_norm", 1.0});

    // Random logits: the sums equal a recomputation by hand, and rows that do not predict a continuation piece
    // (the context's own predictions, the prediction after the last piece) do not matter.
    std::vector<std::vector<float>> random;
    for (std::size_t c = 0; c < 3; ++c) {
        std::vector<float> l(enc.sequences[c].size() * V);
        for (std::size_t i = 0; i < l.size(); ++i) l[i] = 3.0f * std::sin(float(i * 13 + c * 101) * 0.37f);
        random.push_back(l);
    }
    const task_prediction r = decode_outputs(task, e, enc, random, V);
    for (std::size_t c = 0; c < 3; ++c) {
        CAPTURE(c);
        const double ll = loglik_by_hand(random[c], enc.sequences[c], enc.cont_start[c], V);
        CHECK(r.choices.loglik[c] == doctest::Approx(ll).epsilon(1e-10));
        CHECK(ll < 0.0);
    }
    const auto best = std::max_element(r.choices.loglik.begin(), r.choices.loglik.end()) - r.choices.loglik.begin();
    CHECK(r.label == best);
    auto moved = random;
    for (std::size_t c = 0; c < 3; ++c) {
        for (std::size_t i = 0; i + 1 < enc.cont_start[c]; ++i)
            for (std::size_t v = 0; v < V; ++v) moved[c][i * V + v] += float(v) - 4.0f;
        for (std::size_t v = 0; v < V; ++v) moved[c][(enc.sequences[c].size() - 1) * V + v] = 100.0f * float(v);
    }
    CHECK(decode_outputs(task, e, enc, moved, V).choices.loglik == r.choices.loglik);
}

TEST_CASE("finetune: the multiple-choice loss, and its gradient direction from one AdamW step, match by hand") {
    const model_config cfg = model_config::from_json(
        R"({"vocab": 20, "d_model": 8, "heads": 2, "d_ff": 16, "layers": 1, "max_len": 8, "spiking": false})");
    language_model m(cfg);
    m.init(9);
    const task_data task = choice_task();
    encoded_example enc;
    enc.sequences = {{2, 5, 6, 7, 8}, {2, 5, 6, 9}, {2, 5, 6, 10, 11, 12}};
    enc.cont_start = {3, 3, 3};
    enc.cont_bytes = {6, 3, 9};
    enc.label = 1;
    const std::size_t V = cfg.vocab, D = cfg.D;
    // -log softmax(ll)[label] over the choices' log-likelihoods, each choice run alone (no padding)
    auto choice_loss = [&]() {
        std::vector<double> ll;
        for (std::size_t c = 0; c < 3; ++c) {
            const auto& s = enc.sequences[c];
            std::vector<float> logits(s.size() * V);
            m.forward(logits.data(), s.data(), 1, s.size(), {}, false);
            ll.push_back(loglik_by_hand(logits, s, enc.cont_start[c], V));
        }
        double z = 0;
        for (double v : ll) z += std::exp(v);
        return std::log(z) - ll[static_cast<std::size_t>(enc.label)];
    };
    struct entry {
        std::string name;
        std::size_t idx;
        double numeric = 0;
    };
    std::vector<entry> entries;
    for (std::size_t c = 0; c < 4; ++c) entries.push_back({"head.weight", 9 * D + c});  // the gold piece's row
    for (std::size_t i : {0u, 40u, 159u}) entries.push_back({"head.weight", i});
    for (std::size_t v : {0u, 7u, 9u, 12u}) entries.push_back({"head.bias", v});
    for (std::size_t c = 0; c < D; ++c) entries.push_back({"embed.tok.weight", 6 * D + c});  // a context piece
    for (std::size_t i : {0u, 63u, 127u}) entries.push_back({"blocks.0.mlp.fc1.weight", i});
    for (std::size_t i : {1u, 4u}) entries.push_back({"final_norm.weight", i});
    for (auto& en : entries) {
        float& w = find_param(m, en.name).value->data()[en.idx];
        const float saved = w;
        en.numeric = test::central_difference({double(saved)}, 1e-3, [&](const std::vector<double>& xs) {
            w = static_cast<float>(xs[0]);
            return choice_loss();
        })[0];
        w = saved;
    }
    const double loss0 = choice_loss();
    std::map<std::string, tensor<float>> before;
    for (auto& p : m.parameters()) before.emplace(p.name, *p.value);

    // One step of AdamW with the gradient clipped to norm 1e-8 (= Adam's eps): each parameter moves by
    // lr * g'/(|g'| + 1e-8) with g' = 1e-8 g / |g|, so g / |g| = u / (1 - |u|) for the move u / lr.
    finetune_config fc;
    fc.steps = 1;
    fc.batch = 1;
    fc.lr = fc.min_lr = 0.1;
    fc.weight_decay = 0;
    fc.clip = 1e-8;
    fc.warmup = 0;
    fc.log_every = 1;
    std::ostringstream log;
    const double reported = finetune(m, task, {enc}, fc, log);
    CHECK(reported == doctest::Approx(loss0).epsilon(1e-5));
    CHECK(log.str().find("step 1/1") != std::string::npos);
    double unit = 0;
    std::map<std::string, std::vector<double>> direction;
    for (auto& p : m.parameters()) {
        auto& d = direction[p.name];
        for (std::size_t i = 0; i < p.value->size(); ++i) {
            const double u = (double(before.at(p.name).data()[i]) - double(p.value->data()[i])) / fc.lr;
            d.push_back(u / (1 - std::abs(u)));
            unit += d.back() * d.back();
        }
    }
    CHECK(unit == doctest::Approx(1.0).epsilon(1e-3));  // the whole direction was recovered
    // the gradient norm that scales the direction, fitted on the sampled entries; then entry by entry
    double num = 0, den = 0;
    for (const auto& en : entries) {
        num += en.numeric * direction[en.name][en.idx];
        den += direction[en.name][en.idx] * direction[en.name][en.idx];
    }
    const double norm = num / den;
    CHECK(norm > 0.0);
    for (const auto& en : entries) {
        CAPTURE(en.name);
        CAPTURE(en.idx);
        CHECK(std::abs(norm * direction[en.name][en.idx] - en.numeric) <= 2e-5 + 1e-2 * std::abs(en.numeric));
    }
}

namespace {
std::vector<std::int32_t> slice(const std::vector<std::int32_t>& v, std::size_t from, std::size_t to) {
    return {v.begin() + std::ptrdiff_t(from), v.begin() + std::ptrdiff_t(to)};
}
bool is_prefix(const std::vector<std::int32_t>& p, const std::vector<std::int32_t>& of) {
    return p.size() <= of.size() && std::equal(p.begin(), p.end(), of.begin());
}
std::string without_spaces(std::string s) {
    s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
    return s;
}
}  // namespace

TEST_CASE("finetune: encode_example — one text and a pair, trimmed longer-first to max_len") {
    const tokenizer& tok = small_tokenizer();
    task_data task;
    task.name = "pair";
    task.kind = task_kind::pair_classification;
    task.labels = {"no", "yes"};
    task_example e;
    e.text_a = "The farmer feeds the dog at noon. Snow covers the roofs in winter.";
    e.text_b = "A cat sleeps.";
    e.label = 1;
    const auto ta = tok.encode(e.text_a), tb = tok.encode(e.text_b);
    const std::size_t ka = tb.size() + 1;  // room left for the longer text: it stays the longer one
    REQUIRE(ta.size() > ka);
    const std::size_t max_len = ka + tb.size() + 3;
    const encoded_example x = encode_example(task, e, tok, max_len);
    REQUIRE(x.sequences.size() == 1);
    const auto& s = x.sequences[0];
    CHECK(x.label == 1);
    CHECK(s.size() == max_len);
    CHECK(s.front() == tokenizer::bos_id);
    CHECK(std::count(s.begin(), s.end(), tokenizer::eos_id) == 2);
    CHECK(s.back() == tokenizer::eos_id);
    CHECK(s[ka + 1] == tokenizer::eos_id);
    CHECK(slice(s, 1, ka + 1) == slice(ta, 0, ka));  // the longer text lost its end
    CHECK(slice(s, ka + 2, s.size() - 1) == tb);     // the shorter one is whole

    // both long: trimmed to within one piece of each other, each a prefix of its own encoding
    e.text_b = "Nobody saw the dog leave the house. The moon was bright last night.";
    const auto tb2 = tok.encode(e.text_b);
    REQUIRE(ta.size() > 9);
    REQUIRE(tb2.size() > 9);
    const encoded_example y = encode_example(task, e, tok, 12);
    const auto& s2 = y.sequences[0];
    CHECK(s2.size() == 12);
    const auto sep = std::find(s2.begin() + 1, s2.end(), tokenizer::eos_id) - s2.begin();
    const auto a_part = slice(s2, 1, std::size_t(sep)), b_part = slice(s2, std::size_t(sep) + 1, s2.size() - 1);
    CHECK(a_part.size() + b_part.size() == 9);
    CHECK(std::max(a_part.size(), b_part.size()) - std::min(a_part.size(), b_part.size()) <= 1);
    CHECK(is_prefix(a_part, ta));
    CHECK(is_prefix(b_part, tb2));

    // one text that fits: "<s> a </s>" exactly
    task.kind = task_kind::classification;
    e.text_b.clear();
    std::vector<std::int32_t> whole{tokenizer::bos_id};
    whole.insert(whole.end(), ta.begin(), ta.end());
    whole.push_back(tokenizer::eos_id);
    CHECK(encode_example(task, e, tok, 64).sequences[0] == whole);
    CHECK_THROWS_AS(encode_example(task, e, tok, 3), config_error);
}

TEST_CASE("finetune: encode_example — tagging labels each word's first piece; decode maps back to words") {
    const tokenizer& tok = small_tokenizer();
    task_data task;
    task.name = "tags";
    task.kind = task_kind::tagging;
    task.labels = {"DET", "ADJ", "NOUN", "VERB", "ADP", "."};
    task_example e;
    e.words = {"The", "lazy", "dog", "barks", "at", "the", "mailman", "."};
    e.tags = {0, 1, 2, 3, 4, 0, 2, 5};
    const encoded_example x = encode_example(task, e, tok, 64);
    const auto& s = x.sequences[0];
    REQUIRE(x.token_tags.size() == s.size());
    REQUIRE(x.token_word.size() == s.size());
    CHECK(s[0] == tokenizer::bos_id);
    CHECK(x.token_tags[0] == -1);
    std::vector<std::size_t> first;  // position of each word's first piece
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (x.token_word[i] < 0) {
            CHECK(x.token_tags[i] == -1);
            continue;
        }
        CHECK(std::size_t(x.token_word[i]) == first.size());  // words in order, one first piece each
        CHECK(x.token_tags[i] == e.tags[std::size_t(x.token_word[i])]);
        first.push_back(i);
    }
    REQUIRE(first.size() == e.words.size());
    first.push_back(s.size());
    bool split = false;
    for (std::size_t w = 0; w < e.words.size(); ++w) {
        CHECK(tok.decode(slice(s, first[w], first[w + 1])) == e.words[w]);  // a word's pieces are exactly its own
        split = split || first[w + 1] - first[w] > 1;
    }
    CHECK(split);  // some word has more than one piece: the "-1 on later pieces" rule was exercised

    // hand-made outputs: the argmax of each first piece's row is the word's tag
    const std::size_t C = task.labels.size();
    std::vector<float> out(s.size() * C, 0.0f);
    for (std::size_t i = 0; i < s.size(); ++i)
        out[i * C + (x.token_tags[i] >= 0 ? std::size_t(x.token_tags[i]) : (i % C))] = 1.0f;
    CHECK(decode_outputs(task, e, x, {out}, 0).tags == e.tags);

    // a short window keeps whole words only; words left out are predicted -1
    const encoded_example cut = encode_example(task, e, tok, first[2]);  // "<s>" and the first 2 words' pieces
    CHECK(cut.sequences[0] == slice(s, 0, first[2]));
    std::vector<float> out_cut(out.begin(), out.begin() + std::ptrdiff_t(first[2] * C));
    const auto tags = decode_outputs(task, e, cut, {out_cut}, 0).tags;
    CHECK(tags == std::vector<int>{0, 1, -1, -1, -1, -1, -1, -1});
}

TEST_CASE("finetune: encode_example — span QA covers the answer's words; long contexts become windows") {
    const tokenizer& tok = small_tokenizer();
    task_data task;
    task.name = "qa";
    task.kind = task_kind::span_qa;
    task_example e;
    e.text_a = "Who does the dog bark at?";
    e.text_b = "The old dog barks at the mail man every morning.";
    e.answers = {"the mail man"};
    e.answer_starts = {e.text_b.find("the mail man")};
    const encoded_example x = encode_example(task, e, tok, 64);
    const auto& s = x.sequences[0];
    const auto q = tok.encode(e.text_a);
    CHECK(slice(s, 0, q.size() + 2) == [&] {
        std::vector<std::int32_t> v{tokenizer::bos_id};
        v.insert(v.end(), q.begin(), q.end());
        v.push_back(tokenizer::eos_id);
        return v;
    }());
    REQUIRE(x.start >= 0);
    REQUIRE(x.end >= x.start);
    CHECK(x.token_word[std::size_t(x.start)] == 5);  // "the"
    CHECK(x.token_word[std::size_t(x.end)] == 7);    // "man"
    CHECK((x.start == 0 || x.token_word[std::size_t(x.start) - 1] != 5));
    CHECK((std::size_t(x.end) + 1 == s.size() || x.token_word[std::size_t(x.end) + 1] == 8));
    CHECK(without_spaces(tok.decode(slice(s, std::size_t(x.start), std::size_t(x.end) + 1))) ==
          without_spaces(e.answers[0]));
    // decoding start / end outputs that point at the span gives the answer text from the context
    std::vector<float> out(s.size() * 2, 0.0f);
    out[std::size_t(x.start) * 2] = 5.0f;
    out[std::size_t(x.end) * 2 + 1] = 5.0f;
    CHECK(decode_outputs(task, e, x, {out}, 0).answer == "the mail man");

    // a window that ends inside or before the answer: the context is covered by windows overlapping by half,
    // the answer is found in a later window, and evaluation scores every window
    std::size_t upto_the = q.size() + 2;  // pieces up to and including word 5 ("the")
    for (std::size_t w = 0; w <= 5; ++w)
        upto_the += tok.encode(e.text_b.substr(x.word_begin[w], x.word_end[w] - x.word_begin[w])).size();
    for (std::size_t max_len : {upto_the, upto_the - 1}) {
        CAPTURE(max_len);
        const encoded_example c = encode_example(task, e, tok, max_len);
        REQUIRE(c.sequences.size() >= 2);
        REQUIRE(c.window_word.size() == c.sequences.size());
        for (const auto& w : c.sequences) CHECK(w.size() <= max_len);
        // every context word appears in some window
        std::set<int> seen;
        for (const auto& tw : c.window_word)
            for (int wd : tw)
                if (wd >= 0) seen.insert(wd);
        CHECK(seen.size() == x.word_begin.size());
        REQUIRE(c.answer_window >= 1);
        const auto& win = c.sequences[std::size_t(c.answer_window)];
        CHECK(without_spaces(tok.decode(slice(win, std::size_t(c.start), std::size_t(c.end) + 1))) ==
              without_spaces(e.answers[0]));
        std::vector<std::vector<float>> outs;
        for (const auto& w : c.sequences) outs.emplace_back(w.size() * 2, 0.0f);
        outs[std::size_t(c.answer_window)][std::size_t(c.start) * 2] = 5.0f;
        outs[std::size_t(c.answer_window)][std::size_t(c.end) * 2 + 1] = 5.0f;
        CHECK(decode_outputs(task, e, c, outs, 0).answer == "the mail man");
    }
}

TEST_CASE("finetune: encode_example — multiple choice: context then continuation, byte lengths for acc_norm") {
    const tokenizer& tok = small_tokenizer();
    const task_data task = choice_task();
    task_example e;
    e.contexts = {"The old dog"};
    e.choices = {" barks at the mail man.", " sleeps.", " swims in the clear blue lake."};
    e.label = 0;
    const auto ctx = tok.encode(e.contexts[0]);
    REQUIRE(ctx.size() > 2);
    const encoded_example x = encode_example(task, e, tok, 64);
    REQUIRE(x.sequences.size() == 3);
    CHECK(x.label == 0);
    for (std::size_t c = 0; c < 3; ++c) {
        CAPTURE(c);
        const auto& s = x.sequences[c];
        const auto cont = tok.encode(e.choices[c]);
        CHECK(s[0] == tokenizer::bos_id);
        CHECK(x.cont_start[c] == 1 + ctx.size());
        CHECK(slice(s, 1, x.cont_start[c]) == ctx);
        CHECK(slice(s, x.cont_start[c], s.size()) == cont);
        CHECK(x.cont_bytes[c] == e.choices[c].size());
        CHECK(std::count(s.begin(), s.end(), tokenizer::eos_id) == 0);
    }
    // a short window keeps the whole continuation and the end of the context
    const auto cont0 = tok.encode(e.choices[0]);
    const std::size_t max_len = cont0.size() + 3;
    const encoded_example y = encode_example(task, e, tok, max_len);
    const auto& s = y.sequences[0];
    CHECK(s.size() == max_len);
    CHECK(y.cont_start[0] == 3);
    CHECK(slice(s, 1, 3) == slice(ctx, ctx.size() - 2, ctx.size()));
    CHECK(slice(s, 3, s.size()) == cont0);
}

namespace {
bool has_word(const std::string& text, const std::string& word) {
    std::string w;
    for (char ch : text + " ") {
        if (std::isalpha(static_cast<unsigned char>(ch))) {
            w += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        } else {
            if (w == word) return true;
            w.clear();
        }
    }
    return false;
}

struct learned {
    double accuracy = 0, majority = 0;
    std::vector<double> losses;  // one per log interval
};

// Fine-tunes a fresh model of `model_json` (the vocabulary is the tokenizer's) on "does the sentence contain the
// word dog", and scores it on its training set through forward_outputs / decode_outputs / task_metrics.
learned learn_dog(const std::string& model_json, const finetune_config& fc) {
    const tokenizer& tok = small_tokenizer();
    task_data task;
    task.name = "has-dog";
    task.kind = task_kind::classification;
    task.metric = "accuracy";
    task.labels = {"no", "yes"};
    std::vector<int> labels;
    for (std::size_t i = 0; i < sentences.size(); ++i) {
        task_example e;
        e.id = "s" + std::to_string(i);
        e.text_a = sentences[i];
        e.label = has_word(sentences[i], "dog") ? 1 : 0;
        labels.push_back(e.label);
        task.train.push_back(e);
    }
    const model_config pre =
        model_config::from_json("{\"vocab\": " + std::to_string(tok.vocab_size()) + ", " + model_json + "}");
    const model_config cfg = task_model_config(pre, task);
    CHECK(cfg.task == "has-dog");
    CHECK(cfg.task_outputs == 2);
    CHECK(cfg.task_readout == "sequence");
    // the kind and the label names travel with the checkpoint's config, so `wtasim predict` can decode it
    CHECK(cfg.task_kind == "classification");
    CHECK(cfg.task_labels == task.labels);
    const model_config back = model_config::from_json(cfg.to_json());
    CHECK(back.task_kind == "classification");
    CHECK(back.task_labels == std::vector<std::string>{"no", "yes"});
    std::vector<encoded_example> enc;
    for (const auto& e : task.train) {
        enc.push_back(encode_example(task, e, tok, cfg.max_len));
        REQUIRE(enc.back().sequences[0].size() == tok.encode(e.text_a).size() + 2);  // nothing trimmed away
    }
    language_model m(cfg);
    m.init(fc.seed);
    std::ostringstream log;
    const double last = finetune(m, task, enc, fc, log);
    learned r;
    std::istringstream lines(log.str());
    for (std::string line; std::getline(lines, line);) {
        const auto at = line.find("loss ");
        if (at != std::string::npos) r.losses.push_back(std::stod(line.substr(at + 5)));
    }
    REQUIRE(r.losses.size() == (fc.steps + fc.log_every - 1) / fc.log_every);
    CHECK(r.losses.back() == doctest::Approx(last).epsilon(1e-3));
    const auto outputs = forward_outputs(m, task, enc, 8);
    std::vector<task_prediction> predicted;
    for (std::size_t i = 0; i < enc.size(); ++i) {
        REQUIRE(outputs[i].size() == 1);
        REQUIRE(outputs[i][0].size() == 2);
        predicted.push_back(decode_outputs(task, task.train[i], enc[i], outputs[i], cfg.vocab));
    }
    r.accuracy = headline(task, task_metrics(task, task.train, predicted));
    const int majority = majority_label(labels);
    r.majority = double(std::count(labels.begin(), labels.end(), majority)) / double(labels.size());
    return r;
}
}  // namespace

TEST_CASE("finetune: the ANN twin and a spiking model learn a word-detection task above the majority rate") {
    finetune_config fc;
    fc.steps = 80;
    fc.batch = 16;
    fc.lr = 2e-2;
    fc.min_lr = 2e-3;
    fc.warmup = 5;
    fc.weight_decay = 0;
    fc.log_every = 10;
    fc.seed = 3;
    const std::string common = R"("d_model": 16, "heads": 2, "d_ff": 32, "layers": 1, "max_len": 40, "causal": false)";
    for (bool spiking : {false, true}) {
        CAPTURE(spiking);
        const learned r = learn_dog(common + (spiking ? R"(, "T": 2)" : R"(, "spiking": false)"), fc);
        INFO("accuracy " << r.accuracy << " (majority " << r.majority << "), loss " << r.losses.front() << " -> "
                         << r.losses.back());
        CHECK(r.majority < 0.8);  // the task is not trivial for a constant prediction
        // at least half of the way from the majority rate to perfect
        CHECK(r.accuracy >= r.majority + 0.5 * (1.0 - r.majority));
        CHECK(r.losses.back() < 0.5 * r.losses.front());  // the first interval's loss at least halved
    }
}
