// Fine-tuning on downstream tasks (training/finetune.hpp).
#include "training/finetune.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <ostream>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "training/objectives.hpp"

namespace wtasim {
namespace {

using ids = std::vector<std::int32_t>;

// Appends `b` to `a` and returns a.
ids& append(ids& a, const ids& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// "<s> a </s>" or "<s> a </s> b </s>", trimming the longer text from its end until it fits.
ids encode_texts(const tokenizer& tok, const std::string& a, const std::string& b, std::size_t max_len) {
    ids ta = tok.encode(a), tb = b.empty() ? ids{} : tok.encode(b);
    const std::size_t specials = b.empty() ? 2 : 3;
    if (max_len < specials + 2) throw config_error("task: max_len = " + std::to_string(max_len) + " is too short");
    while (ta.size() + tb.size() + specials > max_len) {
        if (ta.size() >= tb.size())
            ta.pop_back();
        else
            tb.pop_back();
    }
    ids out{tokenizer::bos_id};
    append(out, ta).push_back(tokenizer::eos_id);
    if (!b.empty()) append(out, tb).push_back(tokenizer::eos_id);
    return out;
}

// Whitespace-separated words of `text` with their character ranges.
void split_words(const std::string& text, std::vector<std::string>& words, std::vector<std::size_t>& begin,
                 std::vector<std::size_t>& end) {
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        if (i == text.size()) break;
        const std::size_t b = i;
        while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        words.push_back(text.substr(b, i - b));
        begin.push_back(b);
        end.push_back(i);
    }
}

std::size_t argmax(const float* x, std::size_t n) {
    return static_cast<std::size_t>(std::max_element(x, x + n) - x);
}

// log softmax(row)[target] in double.
double log_prob(const float* row, std::size_t V, std::int32_t target) {
    const float mx = *std::max_element(row, row + V);
    double sum = 0;
    for (std::size_t v = 0; v < V; ++v) sum += std::exp(double(row[v]) - mx);
    return double(row[target]) - mx - std::log(sum);
}

struct padded {
    std::vector<std::int32_t> tokens;
    std::vector<std::uint8_t> mask;
    std::size_t B = 0, N = 0;
};

padded pad(const std::vector<const ids*>& seqs) {
    padded p;
    p.B = seqs.size();
    for (const ids* s : seqs) p.N = std::max(p.N, s->size());
    p.tokens.assign(p.B * p.N, tokenizer::pad_id);
    p.mask.assign(p.B * p.N, 0);
    for (std::size_t b = 0; b < p.B; ++b) {
        std::copy(seqs[b]->begin(), seqs[b]->end(), p.tokens.begin() + static_cast<std::ptrdiff_t>(b * p.N));
        std::fill_n(p.mask.begin() + static_cast<std::ptrdiff_t>(b * p.N), seqs[b]->size(), 1);
    }
    return p;
}

// Multiple choice: log-likelihood of each sequence's continuation from LM logits [N, V] of that sequence.
double continuation_loglik(const float* logits, const ids& seq, std::size_t cont_start, std::size_t V) {
    double ll = 0;
    for (std::size_t i = std::max<std::size_t>(cont_start, 1); i < seq.size(); ++i)
        ll += log_prob(logits + (i - 1) * V, V, seq[i]);
    return ll;
}

constexpr float no_span = -1e30f;  // start / end logit of a position that cannot hold an answer

}  // namespace

model_config task_model_config(const model_config& pretrained, const task_data& task) {
    model_config c = pretrained;
    c.task.clear();
    c.task_outputs = 0;
    c.task_readout = "sequence";
    if (task.kind == task_kind::multiple_choice) return c;
    c.task = task.name;
    switch (task.kind) {
        case task_kind::regression:
            c.task_outputs = 1;
            break;
        case task_kind::span_qa:
            c.task_outputs = 2;
            c.task_readout = "token";
            break;
        case task_kind::tagging:
            c.task_outputs = task.labels.size();
            c.task_readout = "token";
            break;
        default:
            c.task_outputs = task.labels.size();
    }
    if (c.task_outputs == 0) throw config_error("task " + task.name + ": no labels");
    return c;
}

encoded_example encode_example(const task_data& task, const task_example& e, const tokenizer& tok,
                               std::size_t max_len) {
    encoded_example x;
    x.label = e.label;
    x.target = static_cast<float>(e.target);
    switch (task.kind) {
        case task_kind::classification:
        case task_kind::pair_classification:
        case task_kind::regression:
            x.sequences.push_back(encode_texts(tok, e.text_a, e.text_b, max_len));
            break;
        case task_kind::tagging: {
            ids seq{tokenizer::bos_id};
            x.token_tags.push_back(-1);
            x.token_word.push_back(-1);
            for (std::size_t w = 0; w < e.words.size(); ++w) {
                const ids pieces = tok.encode(e.words[w]);
                if (pieces.empty()) continue;
                if (seq.size() + pieces.size() > max_len) break;
                for (std::size_t p = 0; p < pieces.size(); ++p) {
                    seq.push_back(pieces[p]);
                    x.token_word.push_back(p == 0 ? static_cast<int>(w) : -1);
                    x.token_tags.push_back(p == 0 && w < e.tags.size() ? e.tags[w] : -1);
                }
            }
            x.sequences.push_back(std::move(seq));
            break;
        }
        case task_kind::span_qa: {
            // "<s> question </s>" then a window of context pieces; a context longer than one window is
            // covered by windows overlapping by half (every window is scored at evaluation)
            ids q = tok.encode(e.text_a);
            if (q.size() > max_len / 2) q.resize(max_len / 2);
            ids head{tokenizer::bos_id};
            append(head, q).push_back(tokenizer::eos_id);
            std::vector<std::string> words;
            split_words(e.text_b, words, x.word_begin, x.word_end);
            ids pieces;
            std::vector<int> piece_word;
            for (std::size_t w = 0; w < words.size(); ++w)
                for (auto id : tok.encode(words[w])) {
                    pieces.push_back(id);
                    piece_word.push_back(static_cast<int>(w));
                }
            const std::size_t room = max_len > head.size() ? max_len - head.size() : 0;
            if (room == 0)
                throw config_error("task: max_len = " + std::to_string(max_len) + " leaves no room for context");
            const std::size_t stride = std::max<std::size_t>(1, room / 2);
            // the gold answer (the first one) as a piece range
            long a_first = -1, a_last = -1;
            if (!e.answers.empty()) {
                const std::size_t a_begin = e.answer_starts.at(0), a_end = a_begin + e.answers[0].size();
                for (std::size_t i = 0; i < pieces.size(); ++i) {
                    const auto w = static_cast<std::size_t>(piece_word[i]);
                    if (x.word_end[w] > a_begin && x.word_begin[w] < a_end) {
                        if (a_first < 0) a_first = static_cast<long>(i);
                        a_last = static_cast<long>(i);
                    }
                }
            }
            for (std::size_t from = 0;; from += stride) {
                const std::size_t to = std::min(pieces.size(), from + room);
                ids seq = head;
                std::vector<int> tw(head.size(), -1);
                for (std::size_t i = from; i < to; ++i) {
                    seq.push_back(pieces[i]);
                    tw.push_back(piece_word[i]);
                }
                if (x.answer_window < 0 && a_first >= static_cast<long>(from) && a_last >= 0 &&
                    a_last < static_cast<long>(to)) {
                    x.answer_window = static_cast<int>(x.sequences.size());
                    x.start = static_cast<int>(head.size() + std::size_t(a_first) - from);
                    x.end = static_cast<int>(head.size() + std::size_t(a_last) - from);
                }
                x.sequences.push_back(std::move(seq));
                x.window_word.push_back(std::move(tw));
                if (to >= pieces.size()) break;
            }
            x.token_word = x.window_word[static_cast<std::size_t>(std::max(0, x.answer_window))];
            break;
        }
        case task_kind::multiple_choice: {
            for (std::size_t c = 0; c < e.choices.size(); ++c) {
                ids ctx = tok.encode(e.contexts.size() == 1 ? e.contexts[0] : e.contexts.at(c));
                ids cont = tok.encode(e.choices[c]);
                if (cont.size() + 2 > max_len) cont.resize(max_len - 2);
                if (ctx.size() + cont.size() + 1 > max_len)  // keep the end of the context
                    ctx.erase(ctx.begin(),
                              ctx.begin() + static_cast<std::ptrdiff_t>(ctx.size() + cont.size() + 1 - max_len));
                ids seq{tokenizer::bos_id};
                append(seq, ctx);
                x.cont_start.push_back(seq.size());
                append(seq, cont);
                x.sequences.push_back(std::move(seq));
                x.cont_bytes.push_back(e.choices[c].size());
            }
            break;
        }
    }
    return x;
}

task_prediction decode_outputs(const task_data& task, const task_example& e, const encoded_example& enc,
                               const std::vector<std::vector<float>>& outputs, std::size_t vocab) {
    task_prediction p;
    const std::size_t C = task.kind == task_kind::regression ? 1 : task.labels.size();
    switch (task.kind) {
        case task_kind::classification:
        case task_kind::pair_classification:
            p.label = static_cast<int>(argmax(outputs.at(0).data(), C));
            break;
        case task_kind::regression:
            p.value = outputs.at(0).at(0);
            break;
        case task_kind::tagging: {
            p.tags.assign(e.words.size(), -1);
            for (std::size_t i = 0; i < enc.token_word.size(); ++i)
                if (enc.token_word[i] >= 0)
                    p.tags[static_cast<std::size_t>(enc.token_word[i])] =
                        static_cast<int>(argmax(outputs.at(0).data() + i * C, C));
            break;
        }
        case task_kind::span_qa: {
            // the best start + end over every window (start <= end, at most 30 pieces apart)
            float best = -std::numeric_limits<float>::infinity();
            int bw = -1;
            std::size_t bs = 0, be = 0;
            const std::size_t max_answer = 30;
            for (std::size_t w = 0; w < enc.window_word.size(); ++w) {
                const float* out = outputs.at(w).data();
                const std::vector<int>& tw = enc.window_word[w];
                for (std::size_t s = 0; s < tw.size(); ++s) {
                    if (tw[s] < 0) continue;
                    for (std::size_t t = s; t < tw.size() && t < s + max_answer; ++t) {
                        if (tw[t] < 0) continue;
                        const float v = out[s * 2] + out[t * 2 + 1];
                        if (bw < 0 || v > best) best = v, bs = s, be = t, bw = static_cast<int>(w);
                    }
                }
            }
            if (bw >= 0) {
                const std::vector<int>& tw = enc.window_word[static_cast<std::size_t>(bw)];
                const std::size_t b = enc.word_begin[static_cast<std::size_t>(tw[bs])];
                const std::size_t f = enc.word_end[static_cast<std::size_t>(tw[be])];
                p.answer = e.text_b.substr(b, f - b);
            }
            break;
        }
        case task_kind::multiple_choice: {
            for (std::size_t c = 0; c < enc.sequences.size(); ++c)
                p.choices.loglik.push_back(
                    continuation_loglik(outputs.at(c).data(), enc.sequences[c], enc.cont_start[c], vocab));
            p.choices.cont_bytes = enc.cont_bytes;
            p.label = choose_acc(p.choices);
            break;
        }
    }
    return p;
}

std::vector<std::pair<std::string, double>> task_metrics(const task_data& task, const std::vector<task_example>& gold,
                                                         const std::vector<task_prediction>& predicted) {
    std::vector<std::pair<std::string, double>> m;
    std::vector<int> g, p, pn;
    std::vector<double> gv, pv;
    double em = 0, f1 = 0;
    std::size_t qa = 0;
    for (std::size_t i = 0; i < gold.size(); ++i) {
        const task_example& e = gold[i];
        const task_prediction& q = predicted.at(i);
        switch (task.kind) {
            case task_kind::regression:
                gv.push_back(e.target);
                pv.push_back(q.value);
                break;
            case task_kind::tagging:
                for (std::size_t w = 0; w < e.tags.size(); ++w) g.push_back(e.tags[w]), p.push_back(q.tags.at(w));
                break;
            case task_kind::span_qa:
                if (e.answers.empty()) break;
                em += squad_exact_match(q.answer, e.answers);
                f1 += squad_f1(q.answer, e.answers);
                ++qa;
                break;
            case task_kind::multiple_choice:
                if (e.label < 0) break;
                g.push_back(e.label);
                p.push_back(choose_acc(q.choices));
                pn.push_back(choose_acc_norm(q.choices));
                break;
            default:
                if (e.label < 0) break;
                g.push_back(e.label);
                p.push_back(q.label);
        }
    }
    switch (task.kind) {
        case task_kind::regression:
            if (gv.size() > 1) m = {{"pearson", pearson(pv, gv)}, {"spearman", spearman(pv, gv)}};
            break;
        case task_kind::span_qa:
            if (qa) m = {{"exact_match", em / double(qa)}, {"f1", f1 / double(qa)}};
            break;
        case task_kind::multiple_choice:
            if (!g.empty()) m = {{"acc", accuracy(p, g)}, {"acc_norm", accuracy(pn, g)}};
            break;
        default:
            if (g.empty()) break;
            m.push_back({"accuracy", accuracy(p, g)});
            if (task.labels.size() == 2 && task.kind != task_kind::tagging) {
                m.push_back({"f1", f1_binary(p, g)});
                m.push_back({"mcc", matthews_corrcoef(p, g)});
            } else {
                m.push_back({"macro_f1", f1_macro(p, g, static_cast<int>(task.labels.size()))});
            }
    }
    return m;
}

double headline(const task_data& task, const std::vector<std::pair<std::string, double>>& metrics) {
    for (const auto& [k, v] : metrics)
        if (k == task.metric) return v;
    return metrics.empty() ? std::nan("") : metrics.front().second;
}

void load_pretrained(language_model& m, const checkpoint& c, const std::string& origin) {
    auto copy = [&](std::vector<param_ref> refs, const std::map<std::string, tensor<float>>& from, const char* group) {
        for (auto& p : refs) {
            if (p.name.rfind("task.", 0) == 0) continue;
            const auto it = from.find(p.name);
            if (it == from.end()) throw io_error(origin + ": /" + group + "/" + p.name + " is missing");
            if (it->second.shape() != p.value->shape())
                throw io_error(origin + ": /" + group + "/" + p.name + " has shape " +
                               shape_string(it->second.shape()) + ", the model expects " +
                               shape_string(p.value->shape()));
            *p.value = it->second;
        }
    };
    copy(m.parameters(), c.params, "params");
    copy(m.buffers(), c.buffers, "buffers");
}

namespace {

// One optimisation batch: loss and the gradient of the task loss, through the model.
double task_step(language_model& m, const task_data& task, const std::vector<const encoded_example*>& ex) {
    std::vector<const ids*> seqs;
    for (const auto* e : ex) {
        if (task.kind == task_kind::span_qa) {  // trained on the window that holds the answer
            seqs.push_back(&e->sequences[static_cast<std::size_t>(e->answer_window)]);
            continue;
        }
        for (const auto& s : e->sequences) seqs.push_back(&s);
    }
    const padded p = pad(seqs);
    const std::size_t B = p.B, N = p.N;
    if (task.kind == task_kind::multiple_choice) {
        const std::size_t V = m.config().vocab;
        std::vector<float> logits(B * N * V), dlogits(B * N * V, 0.0f);
        m.forward(logits.data(), p.tokens.data(), B, N, p.mask, true);
        double loss = 0;
        std::size_t row = 0;
        for (const auto* e : ex) {
            const std::size_t k = e->sequences.size();
            std::vector<double> ll(k);
            for (std::size_t c = 0; c < k; ++c)
                ll[c] = continuation_loglik(logits.data() + (row + c) * N * V, e->sequences[c], e->cont_start[c], V);
            const double mx = *std::max_element(ll.begin(), ll.end());
            double z = 0;
            for (double v : ll) z += std::exp(v - mx);
            loss += -(ll[static_cast<std::size_t>(e->label)] - mx - std::log(z)) / double(ex.size());
            for (std::size_t c = 0; c < k; ++c) {
                const double coef = (std::exp(ll[c] - mx) / z - (int(c) == e->label ? 1.0 : 0.0)) / double(ex.size());
                const ids& s = e->sequences[c];
                for (std::size_t i = std::max<std::size_t>(e->cont_start[c], 1); i < s.size(); ++i) {
                    const float* lr = logits.data() + ((row + c) * N + i - 1) * V;
                    float* dr = dlogits.data() + ((row + c) * N + i - 1) * V;
                    const float mxr = *std::max_element(lr, lr + V);
                    double sum = 0;
                    for (std::size_t v = 0; v < V; ++v) sum += std::exp(double(lr[v]) - mxr);
                    for (std::size_t v = 0; v < V; ++v)
                        dr[v] += static_cast<float>(
                            coef * ((v == std::size_t(s[i]) ? 1.0 : 0.0) - std::exp(double(lr[v]) - mxr) / sum));
                }
            }
            row += k;
        }
        m.backward(dlogits.data());
        return loss;
    }
    const std::size_t C = m.config().task_outputs, rows = m.task_rows(B, N);
    std::vector<float> out(rows * C), dout(rows * C, 0.0f);
    m.forward_task(out.data(), p.tokens.data(), B, N, p.mask, true);
    double loss = 0;
    if (task.kind == task_kind::regression) {
        for (std::size_t b = 0; b < B; ++b) {
            const double d = double(out[b]) - ex[b]->target;
            loss += d * d / double(B);
            dout[b] = static_cast<float>(2 * d / double(B));
        }
    } else if (task.kind == task_kind::span_qa) {
        // start and end: a softmax over the positions of each sequence that hold context tokens
        for (int which = 0; which < 2; ++which) {
            std::vector<float> lg(B * N, no_span), dl(B * N);
            std::vector<std::int32_t> target(B, -1);
            for (std::size_t b = 0; b < B; ++b) {
                for (std::size_t n = 0; n < ex[b]->token_word.size(); ++n)
                    if (ex[b]->token_word[n] >= 0) lg[b * N + n] = out[(b * N + n) * 2 + which];
                target[b] = which == 0 ? ex[b]->start : ex[b]->end;
            }
            const loss_result r = cross_entropy(dl.data(), lg.data(), target.data(), B, N);
            loss += r.loss / 2;
            for (std::size_t i = 0; i < B * N; ++i)
                if (lg[i] != no_span) dout[i * 2 + which] = dl[i] / 2;
        }
    } else {
        std::vector<std::int32_t> target(rows, -1);
        if (task.kind == task_kind::tagging) {
            for (std::size_t b = 0; b < B; ++b)
                std::copy(ex[b]->token_tags.begin(), ex[b]->token_tags.end(), target.begin() + std::ptrdiff_t(b * N));
        } else {
            for (std::size_t b = 0; b < B; ++b) target[b] = ex[b]->label;
        }
        loss = cross_entropy(dout.data(), out.data(), target.data(), rows, C).loss;
    }
    m.backward_task(dout.data());
    return loss;
}

}  // namespace

double finetune(language_model& m, const task_data& task, const std::vector<encoded_example>& train,
                const finetune_config& cfg, std::ostream& log) {
    thread_limit limit(cfg.threads);
    std::vector<const encoded_example*> usable;
    for (const auto& e : train) {
        const bool labelled = task.kind == task_kind::tagging      ? !e.token_tags.empty()
                              : task.kind == task_kind::span_qa    ? e.start >= 0
                              : task.kind == task_kind::regression ? true
                                                                   : e.label >= 0;
        if (labelled) usable.push_back(&e);
    }
    if (usable.empty()) throw config_error("task " + task.name + ": no labelled training examples");
    adamw_config oc;
    oc.lr = cfg.lr;
    oc.min_lr = cfg.min_lr;
    oc.weight_decay = cfg.weight_decay;
    oc.clip = cfg.clip;
    oc.warmup = cfg.warmup;
    oc.total = cfg.steps;
    adamw opt(oc);
    const counter_rng rng(cfg.seed);
    double interval = 0, last = 0;
    std::size_t in_interval = 0;
    for (std::size_t step = 0; step < cfg.steps; ++step) {
        std::vector<const encoded_example*> batch;
        for (std::size_t r = 0; r < cfg.batch; ++r) {
            const auto bits = rng.bits(11, step * cfg.batch + r);
            batch.push_back(usable[(std::uint64_t{bits[0]} << 32 | bits[1]) % usable.size()]);
        }
        m.zero_grad();
        const double loss = task_step(m, task, batch);
        auto params = m.parameters();
        opt.step(params);
        interval += loss;
        ++in_interval;
        if ((step + 1) % std::max<std::size_t>(1, cfg.log_every) == 0 || step + 1 == cfg.steps) {
            last = interval / double(in_interval);
            char line[160];
            std::snprintf(line, sizeof line, "  fine-tune %s step %zu/%zu  loss %.4f  lr %.2e\n", task.name.c_str(),
                          step + 1, cfg.steps, last, oc.learning_rate(step));
            log << line << std::flush;
            interval = 0;
            in_interval = 0;
        }
    }
    return last;
}

std::vector<std::vector<std::vector<float>>> forward_outputs(language_model& m, const task_data& task,
                                                             const std::vector<encoded_example>& examples,
                                                             std::size_t batch) {
    std::vector<std::vector<std::vector<float>>> out(examples.size());
    const bool lm = task.kind == task_kind::multiple_choice;
    const std::size_t C = lm ? m.config().vocab : m.config().task_outputs;
    for (std::size_t first = 0; first < examples.size(); first += batch) {
        const std::size_t last = std::min(examples.size(), first + batch);
        std::vector<const ids*> seqs;
        for (std::size_t i = first; i < last; ++i)
            for (const auto& s : examples[i].sequences) seqs.push_back(&s);
        const padded p = pad(seqs);
        const bool token_rows = lm || m.config().task_readout == "token";
        std::vector<float> o((token_rows ? p.B * p.N : p.B) * C);
        if (lm)
            m.forward(o.data(), p.tokens.data(), p.B, p.N, p.mask, false);
        else
            m.forward_task(o.data(), p.tokens.data(), p.B, p.N, p.mask, false);
        std::size_t row = 0;
        for (std::size_t i = first; i < last; ++i)
            for (const auto& s : examples[i].sequences) {
                const std::size_t len = token_rows ? s.size() : 1, stride = token_rows ? p.N : 1;
                out[i].emplace_back(o.begin() + std::ptrdiff_t(row * stride * C),
                                    o.begin() + std::ptrdiff_t((row * stride + len) * C));
                ++row;
            }
    }
    return out;
}

}  // namespace wtasim
