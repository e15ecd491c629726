// The trainer (training/trainer.hpp).
#include "training/trainer.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "core/parallel.hpp"
#include "core/progress.hpp"
#include "model/checkpoint.hpp"
#include "model/weights.hpp"
#include "training/corpus.hpp"
#include "training/tokenizer.hpp"

namespace wtasim {
namespace fs = std::filesystem;

namespace {
// A tokenized split: documents as <s> ids </s>, concatenated; bytes of their text for bits per byte.
struct token_stream {
    std::vector<std::int32_t> ids;
    std::size_t text_bytes = 0, text_tokens = 0;
};

token_stream tokenize(const tokenizer& tok, const std::vector<document>& docs) {
    token_stream s;
    for (const auto& d : docs) {
        const auto ids = tok.encode(d.text);
        s.ids.push_back(tokenizer::bos_id);
        s.ids.insert(s.ids.end(), ids.begin(), ids.end());
        s.ids.push_back(tokenizer::eos_id);
        s.text_bytes += d.text.size();
        s.text_tokens += ids.size();
    }
    return s;
}

struct data {
    tokenizer tok;
    token_stream train, valid, test;
};

data load_data(const train_scenario& s, const std::vector<std::uint8_t>* tokenizer_bytes, std::ostream& out,
               progress* shown = nullptr) {
    if (shown) shown->stage("reading the corpus (" + (s.data_path.empty() ? s.corpus : s.data_path) + ")");
    std::vector<document> docs;
    if (!s.data_path.empty())
        docs = s.data_path.ends_with(".jsonl") ? read_jsonl(s.data_path) : read_text_file(s.data_path);
    else
        docs = read_corpus(s.corpus, s.data_dir);
    if (s.max_documents && docs.size() > s.max_documents) docs.resize(s.max_documents);
    const auto train_docs = select(docs, split::train, s.valid_fraction, s.test_fraction);
    const auto valid_docs = select(docs, split::valid, s.valid_fraction, s.test_fraction);
    const auto test_docs = select(docs, split::test, s.valid_fraction, s.test_fraction);
    if (train_docs.empty() || valid_docs.empty())
        throw config_error(s.origin + ": /data: " + std::to_string(docs.size()) +
                           " documents give an empty training or validation split; use more documents");
    auto tok = [&] {
        if (tokenizer_bytes) return tokenizer::from_bytes(*tokenizer_bytes, "checkpoint");
        if (!s.tokenizer_model.empty()) return tokenizer::from_file(s.tokenizer_model);
        if (!s.tokenizer_checkpoint.empty()) {
            const checkpoint c = load_checkpoint(s.tokenizer_checkpoint);
            if (c.tokenizer.empty()) throw io_error(s.tokenizer_checkpoint + ": /tokenizer/model is missing");
            return tokenizer::from_bytes(c.tokenizer, s.tokenizer_checkpoint);
        }
        std::vector<std::string> texts;
        for (const auto& d : train_docs) texts.push_back(d.text);
        if (shown) shown->stage("training the tokenizer (vocabulary " + std::to_string(s.vocab_size) + ")");
        return tokenizer::train(texts, s.vocab_size);
    }();
    if (shown) shown->stage("tokenizing " + std::to_string(docs.size()) + " documents");
    data d{std::move(tok), {}, {}, {}};
    d.train = tokenize(d.tok, train_docs);
    d.valid = tokenize(d.tok, valid_docs);
    d.test = tokenize(d.tok, test_docs);
    out << "data: " << docs.size() << " documents (" << train_docs.size() << " train, " << valid_docs.size()
        << " valid, " << test_docs.size() << " test); " << d.train.ids.size() << " training tokens, vocabulary "
        << d.tok.vocab_size() << "\n";
    return d;
}

struct batch {
    std::vector<std::int32_t> inputs, targets;
    std::vector<std::uint8_t> mask;
};

// Batch `micro` of `step`: windows at positions drawn from (seed, step, micro, row) — a pure function.
batch draw_batch(const train_scenario& s, const token_stream& stream, const tokenizer& tok, std::uint64_t step,
                 std::size_t micro) {
    const std::size_t B = s.batch, N = s.seq_len;
    if (stream.ids.size() < N + 1)
        throw config_error(s.origin + ": /train/seq_len = " + std::to_string(N) + ", longer than the training data (" +
                           std::to_string(stream.ids.size()) + " tokens)");
    const counter_rng rng(s.seed);
    batch b{std::vector<std::int32_t>(B * N), {}, std::vector<std::uint8_t>(B * N, 1)};
    const std::uint64_t key = (step * s.accumulate + micro) * B;
    for (std::size_t r = 0; r < B; ++r) {
        const std::uint64_t span = stream.ids.size() - N;
        const std::uint64_t start = (std::uint64_t{rng.bits(7, key + r)[0]} << 32 | rng.bits(7, key + r)[1]) % span;
        std::copy_n(stream.ids.begin() + static_cast<std::ptrdiff_t>(start), N, b.inputs.begin() + r * N);
    }
    if (s.objective == "clm") {
        b.targets = clm_targets(b.inputs, b.mask, B, N);
    } else {
        mlm_batch mb = mlm_mask(b.inputs, b.mask, tok.vocab_size(), tokenizer::mask_id, tok.special_ids(),
                                counter_rng(s.seed ^ 0x6d6c6dULL), key);
        b.inputs = std::move(mb.inputs);
        b.targets = std::move(mb.targets);
    }
    return b;
}

eval_result evaluate(language_model& m, const train_scenario& s, const token_stream& stream, const tokenizer& tok,
                     std::size_t batches) {
    const std::size_t B = s.batch, N = s.seq_len, V = m.config().vocab;
    double nats = 0, correct = 0;
    std::size_t counted = 0;
    std::vector<float> logits(B * N * V), d(logits.size());
    progress shown("evaluate", batches, "batches", "tokens");
    for (std::size_t k = 0; k < batches; ++k) {
        batch b{std::vector<std::int32_t>(B * N), {}, std::vector<std::uint8_t>(B * N, 1)};
        bool any = false;
        for (std::size_t r = 0; r < B; ++r) {
            const std::size_t start = (k * B + r) * N;  // consecutive, non-overlapping windows
            if (start + N > stream.ids.size()) {
                std::fill_n(b.mask.begin() + r * N, N, 0);
                continue;
            }
            any = true;
            std::copy_n(stream.ids.begin() + static_cast<std::ptrdiff_t>(start), N, b.inputs.begin() + r * N);
        }
        if (!any) break;
        if (s.objective == "clm") {
            b.targets = clm_targets(b.inputs, b.mask, B, N);
        } else {
            mlm_batch mb = mlm_mask(b.inputs, b.mask, tok.vocab_size(), tokenizer::mask_id, tok.special_ids(),
                                    counter_rng(0x5eedULL), k);
            b.inputs = std::move(mb.inputs);
            b.targets = std::move(mb.targets);
        }
        m.forward(logits.data(), b.inputs.data(), B, N, b.mask, false);
        const loss_result r = cross_entropy(d.data(), logits.data(), b.targets.data(), B * N, V);
        nats += r.loss * double(r.count);
        correct += double(r.correct);
        counted += r.count;
        shown.add(1, B * N);
    }
    eval_result e;
    e.tokens = counted;
    if (counted == 0)
        throw config_error(s.origin + ": the evaluation split has " + std::to_string(stream.ids.size()) +
                           " tokens, fewer than /train/seq_len = " + std::to_string(N) +
                           "; use more documents or a shorter seq_len");
    e.loss = nats / double(counted);
    e.perplexity = std::exp(e.loss);
    // bits per byte: nats per token x (tokens per byte of the split's text) / ln 2
    const double tokens_per_byte = double(stream.text_tokens) / double(std::max<std::size_t>(1, stream.text_bytes));
    e.bits_per_byte = e.loss * tokens_per_byte / std::log(2.0);
    e.masked_accuracy = correct / double(counted);
    return e;
}

// `extra`: training-only parameters (distillation projections), kept beside the AdamW state in /optimizer.
void to_checkpoint(checkpoint& c, language_model& m, const adamw& opt, const train_scenario& s, const tokenizer& tok,
                   std::uint64_t step, const std::vector<param_ref>& extra) {
    c = weights_checkpoint(m);
    c.step = static_cast<std::int64_t>(step);
    c.optimizer = opt.state();
    for (const param_ref& p : extra) c.optimizer.emplace(p.name, *p.value);
    c.tokenizer = tok.bytes();
    nlohmann::json j{{"generator", "philox4x32-10"},
                     {"seed", s.seed},
                     {"scenario", nlohmann::json::parse(s.json)},
                     {"origin", fs::absolute(s.origin).string()}};
    if (s.distill.enabled) j["distill"] = {{"teacher", fs::absolute(s.distill.teacher).string()}};
    c.rng = j.dump();
}

void from_checkpoint(language_model& m, const checkpoint& c, const std::string& path) {
    load_weights(m.parameters(), c, weight_group::params, path);
    load_weights(m.buffers(), c, weight_group::buffers, path);
    for (const auto g : {weight_group::params, weight_group::buffers}) {
        std::vector<std::string> names;
        for (const auto& p : g == weight_group::params ? m.parameters() : m.buffers()) names.push_back(p.name);
        refuse_unknown_tensors(c, g, names, path);
    }
}

// The teacher of /train/distill, checked against the student and this run's tokenizer; null without distillation.
std::unique_ptr<language_model> load_teacher(const train_scenario& s, const tokenizer& tok, std::ostream& out) {
    if (!s.distill.enabled) return nullptr;
    const std::string& path = s.distill.teacher;
    const std::string where = s.origin + ": /train/distill/teacher = \"" + path + "\", ";
    const checkpoint c = load_checkpoint(path);
    const model_config cfg = model_config::from_json(c.config, path, "@config");
    const std::string why = teacher_mismatch(cfg, s.model, s.distill.hidden_weight);
    if (!why.empty()) throw config_error(where + why);
    if (!c.tokenizer.empty() && c.tokenizer != tok.bytes())
        throw config_error(where +
                           "its tokenizer differs from this run's (same size, other pieces); take the "
                           "teacher's with \"tokenizer\": {\"from\": \"" +
                           path + "\"}");
    auto teacher = std::make_unique<language_model>(cfg);
    from_checkpoint(*teacher, c, path);
    out << "distill: teacher " << path << " (" << (cfg.spiking ? "spiking" : "ANN twin") << ", D " << cfg.D << ", L "
        << cfg.L << ", step " << c.step << "), weight " << s.distill.weight << ", temperature " << s.distill.temperature
        << ", hidden_weight " << s.distill.hidden_weight << "\n";
    return teacher;
}

// A resumed checkpoint must hold the whole state of the run it continues: the optimizer moments of every
// parameter (finite, with the parameter's shape), nothing else, and the same random-number stream.
// `extra`: training-only parameters (distillation projections), stored in /optimizer under their own names too.
void check_resumable(const checkpoint& c, language_model& m, const std::vector<param_ref>& extra,
                     const train_scenario& s, const std::string& path) {
    std::map<std::string, const tensor<float>*> left;
    for (const auto& [name, t] : c.optimizer) left[name] = &t;
    left.erase("t");
    for (const auto& p : extra) left.erase(p.name);  // read (name and shape checked) by load_weights
    auto params = m.parameters();
    params.insert(params.end(), extra.begin(), extra.end());
    for (const auto& p : params)
        for (const char* moment : {"m.", "v."}) {
            const std::string name = moment + p.name;
            const auto it = left.find(name);
            if (it == left.end())
                throw io_error(path + ": /optimizer/" + name + " is missing; the checkpoint cannot be resumed exactly");
            if (it->second->shape() != p.value->shape())
                throw io_error(path + ": /optimizer/" + name + " has shape " + shape_string(it->second->shape()) +
                               ", expected " + shape_string(p.value->shape()));
            const auto& v = it->second->values();
            for (std::size_t i = 0; i < v.size(); ++i)
                if (!std::isfinite(v[i]) || (moment[0] == 'v' && v[i] < 0))
                    throw io_error(path + ": /optimizer/" + name + "[" + std::to_string(i) +
                                   "] = " + std::to_string(v[i]) + ", expected a finite number" +
                                   (moment[0] == 'v' ? " >= 0" : ""));
            left.erase(it);
        }
    if (!left.empty())
        throw io_error(path + ": /optimizer/" + left.begin()->first + " belongs to no parameter of the model");
    const auto rng = nlohmann::json::parse(c.rng.empty() ? "{}" : c.rng, nullptr, false);
    if (rng.is_discarded() || !rng.is_object() || rng.value("generator", "") != "philox4x32-10" ||
        !rng.contains("seed") || !rng["seed"].is_number_unsigned())
        throw io_error(path + ": the root attribute rng = " + c.rng.substr(0, 80) +
                       " is not wtasim's random-number state; the checkpoint cannot be resumed exactly");
    if (rng["seed"].get<std::uint64_t>() != s.seed)
        throw config_error(s.origin + ": /train/seed = " + std::to_string(s.seed) + " but " + path +
                           " was trained with seed " + std::to_string(rng["seed"].get<std::uint64_t>()) +
                           "; --resume continues the same run only");
}

std::string format_eval(const eval_result& e, const std::string& objective) {
    char line[256];
    if (objective == "clm")
        std::snprintf(line, sizeof line, "loss %.4f, perplexity %.2f, bits per byte %.4f (%zu tokens)", e.loss,
                      e.perplexity, e.bits_per_byte, e.tokens);
    else
        std::snprintf(line, sizeof line, "loss %.4f, perplexity %.2f, masked accuracy %.4f (%zu masked tokens)", e.loss,
                      e.perplexity, e.masked_accuracy, e.tokens);
    return line;
}

nlohmann::json eval_json(std::uint64_t step, const char* split_name, const eval_result& e) {
    return {{"step", step},
            {"split", split_name},
            {"loss", e.loss},
            {"perplexity", e.perplexity},
            {"bits_per_byte", e.bits_per_byte},
            {"masked_accuracy", e.masked_accuracy},
            {"tokens", e.tokens}};
}
}  // namespace

eval_result train(const train_scenario& scenario, const train_options& o, std::ostream& out) {
    thread_limit limit(scenario.threads);
    const std::string ckpt_path = scenario.output + "/checkpoint.h5", metrics_path = scenario.output + "/metrics.jsonl";
    // the run's files never overwrite an input; one run at a time writes the folder
    refuse_overwriting_inputs(
        {{scenario.origin + ": /output checkpoint", ckpt_path}, {scenario.origin + ": /output metrics", metrics_path}},
        {{"training scenario", scenario.origin},
         {"training data (/data/path)", scenario.data_path},
         {"tokenizer model (/tokenizer/model)", scenario.tokenizer_model},
         {"distillation teacher (/train/distill/teacher)", scenario.distill.teacher},
         {"tokenizer source (/tokenizer/from)", o.resume ? "" : scenario.tokenizer_checkpoint}});
    fs::create_directories(scenario.output);
    const folder_lock lock(scenario.output);
    check_replaceable(ckpt_path);
    check_replaceable(metrics_path);
    std::optional<checkpoint> resumed;
    std::error_code err;
    if (o.resume && !fs::exists(ckpt_path, err))
        throw io_error(ckpt_path +
                       ": no checkpoint to resume from (--resume continues a run that saved one; "
                       "run without --resume to start)");
    progress shown("train", 0, "steps", "tokens");
    if (o.resume) {
        shown.stage("reading " + ckpt_path);
        resumed = load_checkpoint(ckpt_path);
    }
    data d = load_data(scenario, resumed ? &resumed->tokenizer : nullptr, out, &shown);
    shown.stage("building the model");
    train_scenario s = scenario;
    if (s.model.vocab == 0) s.model.vocab = d.tok.vocab_size();
    if (s.model.vocab != d.tok.vocab_size())
        throw config_error(s.origin + ": /model/vocab = " + std::to_string(s.model.vocab) + ", the tokenizer has " +
                           std::to_string(d.tok.vocab_size()) + " pieces");
    language_model m(s.model);
    m.init(s.seed);
    const std::unique_ptr<language_model> teacher = load_teacher(s, d.tok, out);
    std::optional<distiller> distill;
    if (teacher) distill.emplace(s.distill, *teacher, s.model, s.seed);
    std::vector<param_ref> extra = distill ? distill->parameters() : std::vector<param_ref>{};
    adamw opt(s.opt);
    std::uint64_t step = 0;
    if (resumed) {
        if (model_config::from_json(resumed->config, ckpt_path, "@config").to_json() != s.model.to_json())
            throw config_error(s.origin + ": /model differs from the model in " + ckpt_path +
                               " (@config); --resume continues the same model only");
        if (resumed->optimizer.count("t") == 0 || resumed->optimizer.at("t").size() != 2)
            throw io_error(ckpt_path +
                           ": /optimizer/t is missing: not a training checkpoint (wtasim export drops the "
                           "optimizer state), so it cannot be resumed exactly");
        from_checkpoint(m, *resumed, ckpt_path);
        check_resumable(*resumed, m, extra, s, ckpt_path);
        load_weights(extra, *resumed, weight_group::optimizer, ckpt_path);
        opt.load_state(resumed->optimizer);
        step = static_cast<std::uint64_t>(resumed->step);
        if (opt.steps() != step)
            throw io_error(ckpt_path + ": @step = " + std::to_string(step) + " but /optimizer/t counts " +
                           std::to_string(opt.steps()) + " steps: inconsistent, it cannot be resumed exactly");
        out << "resumed from " << ckpt_path << " at step " << step << "\n";
    }
    // Metrics: keep the lines up to the resumed step, so the file is the curve of one uninterrupted run.
    {
        std::vector<std::string> kept;
        if (resumed && fs::exists(metrics_path, err)) {
            // Bounded: a metrics file is one short line per logged step (64 MiB is ~500k lines).
            const std::string text = json_reader::read_file(metrics_path, "metrics file", std::size_t{64} << 20);
            std::size_t unreadable = 0;
            for (std::size_t begin = 0; begin < text.size();) {
                std::size_t end = text.find('\n', begin);
                if (end == std::string::npos) end = text.size();
                const std::string line = text.substr(begin, end - begin);
                begin = end + 1;
                const auto j = nlohmann::json::parse(line, nullptr, false);
                if (j.is_discarded() || !j.is_object() || !j.contains("step") || !j["step"].is_number_unsigned())
                    unreadable += !line.empty();
                else if (j["step"].get<std::uint64_t>() <= step)
                    kept.push_back(line);
            }
            if (unreadable > 0)
                out << metrics_path << ": dropped " << unreadable << " line(s) that are not metrics records\n";
        }
        std::string all;
        for (const auto& l : kept) all += l + "\n";
        write_text_atomically(metrics_path, all);
    }
    std::ofstream metrics(metrics_path, std::ios::app);
    if (!metrics) throw io_error(metrics_path + ": cannot append metrics");
    const std::size_t V = s.model.vocab, B = s.batch, N = s.seq_len;
    std::vector<float> logits(B * N * V), dlogits(logits.size());
    auto params = m.parameters();
    params.insert(params.end(), extra.begin(), extra.end());
    const auto t0 = std::chrono::steady_clock::now();
    std::size_t tokens_this_run = 0, steps_this_run = 0;
    eval_result last;
    shown.start(s.steps, step);
    auto save = [&](std::uint64_t at) {
        checkpoint c;
        to_checkpoint(c, m, opt, s, d.tok, at, extra);
        save_checkpoint(ckpt_path, c);
    };
    while (step < s.steps) {
        m.zero_grad();
        if (distill) distill->zero_grad();
        double loss = 0, objective = 0;
        distill_terms terms_sum;
        for (std::size_t micro = 0; micro < s.accumulate; ++micro) {
            const batch b = draw_batch(s, d.train, d.tok, step, micro);
            m.forward(logits.data(), b.inputs.data(), B, N, b.mask, true);
            const loss_result r = cross_entropy(dlogits.data(), logits.data(), b.targets.data(), B * N, V);
            if (distill) {
                const distill_terms t =
                    distill->lm(m, dlogits.data(), logits.data(), b.targets.data(), b.inputs.data(), B, N, b.mask);
                terms_sum.kl += t.kl / double(s.accumulate);
                terms_sum.hidden += t.hidden / double(s.accumulate);
                objective += t.objective(r.loss, s.distill) / double(s.accumulate);
            }
            m.backward(dlogits.data());
            loss += r.loss / double(s.accumulate);
            tokens_this_run += B * N;
        }
        const double lr = s.opt.learning_rate(opt.steps());
        const double norm = opt.step(params, 1.0 / double(s.accumulate));
        if (!std::isfinite(loss) || !std::isfinite(norm) || !std::isfinite(objective)) {  // never saved
            char what[160];
            std::snprintf(what, sizeof what, "loss = %g, gradient norm = %g", loss, norm);
            throw config_error(s.origin + ": training diverged at step " + std::to_string(step + 1) + " (" + what +
                               "); nothing of this step is saved, " + ckpt_path +
                               " keeps the last good checkpoint. Lower /train/lr or raise /train/warmup");
        }
        ++step;
        ++steps_this_run;
        shown.set(step, tokens_this_run);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double tokens_per_s = double(tokens_this_run) / std::max(seconds, 1e-9);
        if (step % s.log_every == 0 || step == s.steps) {
            nlohmann::json j = {
                {"step", step}, {"loss", loss}, {"lr", lr}, {"grad_norm", norm}, {"tokens_per_s", tokens_per_s}};
            if (s.model.spiking) j["firing_rate"] = m.firing_rates();
            if (s.model.spiking && s.model.block.attn.kind == attention_kind::wta)
                j["no_winner"] = m.no_winner_fractions();
            std::string teacher_note;
            if (distill) {  // loss stays the task loss; the teacher's time is wall-clock time of this run
                j["objective"] = objective;
                j["distill_kl"] = terms_sum.kl;
                if (s.distill.hidden_weight > 0) j["distill_hidden"] = terms_sum.hidden;
                j["teacher_seconds"] = distill->teacher_seconds();
                j["teacher_fraction"] = distill->teacher_seconds() / std::max(seconds, 1e-9);
                char note[64];
                std::snprintf(note, sizeof note, "  kl %.4f  teacher %.0f%%", terms_sum.kl,
                              100 * distill->teacher_seconds() / std::max(seconds, 1e-9));
                teacher_note = note;
            }
            metrics << j.dump() << "\n" << std::flush;
            const double eta = double(s.steps - step) * seconds / double(steps_this_run);
            char line[240];
            std::snprintf(line, sizeof line, "step %llu/%zu  loss %.4f  lr %.2e  %.0f tokens/s  ETA %dm%02ds%s",
                          static_cast<unsigned long long>(step), s.steps, loss, lr, tokens_per_s, int(eta) / 60,
                          int(eta) % 60, teacher_note.c_str());
            out << line << std::endl;  // a live line in logs too
            char loss_note[32];
            std::snprintf(loss_note, sizeof loss_note, "loss %.4f", loss);
            shown.detail(loss_note);
        }
        if (step % s.eval_every == 0 || step == s.steps) {
            last = evaluate(m, s, d.valid, d.tok, s.eval_batches);
            metrics << eval_json(step, "valid", last).dump() << "\n" << std::flush;
            out << "eval step " << step << " (valid): " << format_eval(last, s.objective) << "\n";
        }
        if (step % s.checkpoint_every == 0 || step == s.steps) save(step);
        if (o.stop_after && steps_this_run >= o.stop_after) break;
    }
    return last;
}

ngram_baselines baselines(const train_scenario& s, std::ostream& out) {
    const data d = load_data(s, nullptr, out);
    const std::size_t V = d.tok.vocab_size();
    std::vector<double> uni(V, 1.0);  // add-one
    std::map<std::pair<std::int32_t, std::int32_t>, double> bi;
    std::vector<double> context(V, 0.0), types(V, 0.0);
    for (std::size_t i = 0; i < d.train.ids.size(); ++i) {
        uni[static_cast<std::size_t>(d.train.ids[i])] += 1.0;
        if (i + 1 < d.train.ids.size()) {
            const auto key = std::make_pair(d.train.ids[i], d.train.ids[i + 1]);
            if (bi[key]++ == 0) types[static_cast<std::size_t>(key.first)] += 1.0;
            context[static_cast<std::size_t>(key.first)] += 1.0;
        }
    }
    double total = 0;
    for (double c : uni) total += c;
    // Predict every token of the validation stream after its predecessor (as CLM does).
    double nats_uni = 0, nats_bi = 0;
    std::size_t n = 0;
    for (std::size_t i = 1; i < d.valid.ids.size(); ++i) {
        const auto prev = static_cast<std::size_t>(d.valid.ids[i - 1]), cur = static_cast<std::size_t>(d.valid.ids[i]);
        const double p_uni = uni[cur] / total;
        double p_bi = p_uni;
        if (context[prev] > 0) {
            const double lambda = context[prev] / (context[prev] + types[prev]);
            const auto it = bi.find({d.valid.ids[i - 1], d.valid.ids[i]});
            const double ml = it == bi.end() ? 0.0 : it->second / context[prev];
            p_bi = lambda * ml + (1 - lambda) * p_uni;
        }
        nats_uni -= std::log(p_uni);
        nats_bi -= std::log(p_bi);
        ++n;
    }
    if (n == 0) throw config_error(s.origin + ": the validation split is empty; use more documents");
    const double tokens_per_byte = double(d.valid.text_tokens) / double(std::max<std::size_t>(1, d.valid.text_bytes));
    auto result = [&](double nats) {
        eval_result e;
        e.tokens = n;
        e.loss = nats / double(n);
        e.perplexity = std::exp(e.loss);
        e.bits_per_byte = e.loss * tokens_per_byte / std::log(2.0);
        return e;
    };
    ngram_baselines b{result(nats_uni), result(nats_bi)};
    out << "baseline unigram (valid): " << format_eval(b.unigram, "clm") << "\n";
    out << "baseline bigram  (valid): " << format_eval(b.bigram, "clm") << "\n";
    return b;
}

eval_result evaluate_checkpoint(const checkpoint& c, const std::string& path, const train_scenario& scenario,
                                const std::string& split_name, std::size_t batches, std::ostream& out) {
    train_scenario s = scenario;
    s.model = model_config::from_json(c.config, path, "@config");
    data d = load_data(s, &c.tokenizer, out);
    language_model m(s.model);
    from_checkpoint(m, c, path);
    const token_stream& stream = split_name == "test" ? d.test : d.valid;
    if (split_name != "test" && split_name != "valid")
        throw config_error("eval: split \"" + split_name + "\" is unknown, expected \"valid\" or \"test\"");
    const eval_result e = evaluate(m, s, stream, d.tok, batches);
    out << "eval " << path << " (" << split_name << ", step " << c.step << "): " << format_eval(e, s.objective) << "\n";
    return e;
}

}  // namespace wtasim
