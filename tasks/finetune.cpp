// Fine-tuning on downstream tasks (tasks/finetune.hpp).
#include "tasks/finetune.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <ostream>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/progress.hpp"
#include "core/rng.hpp"
#include "model/weights.hpp"
#include "tasks/detail.hpp"
#include "training/objectives.hpp"

namespace wtasim {
using namespace task_detail;

void load_pretrained(language_model& m, const checkpoint& c, const std::string& origin) {
    load_weights(m.parameters(), c, weight_group::params, origin, "task.");
    load_weights(m.buffers(), c, weight_group::buffers, origin, "task.");
}

namespace {

// One optimisation batch: the task loss, and the gradient of the task loss (or, with `dist`, of the combined
// distillation loss), through the model.
double task_step(language_model& m, const task_data& task, const std::vector<const encoded_example*>& ex,
                 distiller* dist) {
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
        if (dist) dist->task(m, dout.data(), out.data(), target.data(), p.tokens.data(), B, N, p.mask);
    }
    m.backward_task(dout.data());
    return loss;
}

}  // namespace

bool distillable(task_kind kind) {
    return kind == task_kind::classification || kind == task_kind::pair_classification || kind == task_kind::tagging;
}

double finetune(language_model& m, const task_data& task, const std::vector<encoded_example>& train,
                const finetune_config& cfg, std::ostream& log, language_model* teacher) {
    thread_limit limit(cfg.threads);
    std::optional<distiller> dist;
    if (cfg.distill.enabled) {
        if (!teacher || !distillable(task.kind))
            throw internal_error("finetune: distillation of task " + task.name + " without a teacher or of kind " +
                                 task_kind_name(task.kind));
        dist.emplace(cfg.distill, *teacher, m.config());
    }
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
    const auto t0 = std::chrono::steady_clock::now();
    double interval = 0, last = 0;
    std::size_t in_interval = 0;
    progress shown("fine-tune " + task.name, cfg.steps, "steps", "examples");
    for (std::size_t step = 0; step < cfg.steps; ++step) {
        std::vector<const encoded_example*> batch;
        for (std::size_t r = 0; r < cfg.batch; ++r) {
            const auto bits = rng.bits(11, step * cfg.batch + r);
            batch.push_back(usable[(std::uint64_t{bits[0]} << 32 | bits[1]) % usable.size()]);
        }
        m.zero_grad();
        if (dist) dist->zero_grad();
        const double loss = task_step(m, task, batch, dist ? &*dist : nullptr);
        auto params = m.parameters();
        if (dist)  // a teacher of another width: its projections learn with the student (docs/model.md §10)
            for (const param_ref& p : dist->parameters()) params.push_back(p);
        opt.step(params);
        interval += loss;
        ++in_interval;
        shown.add(1, cfg.batch);
        if ((step + 1) % std::max<std::size_t>(1, cfg.log_every) == 0 || step + 1 == cfg.steps) {
            last = interval / double(in_interval);
            char line[160];
            std::snprintf(line, sizeof line, "  fine-tune %s step %zu/%zu  loss %.4f  lr %.2e", task.name.c_str(),
                          step + 1, cfg.steps, last, oc.learning_rate(step));
            log << line;
            if (dist) {
                const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                std::snprintf(line, sizeof line, "  teacher %.2f s (%.0f%%)", dist->teacher_seconds(),
                              100 * dist->teacher_seconds() / std::max(seconds, 1e-9));
                log << line;
            }
            log << "\n" << std::flush;
            std::snprintf(line, sizeof line, "loss %.4f", last);
            shown.detail(line);
            interval = 0;
            in_interval = 0;
        }
    }
    return last;
}

}  // namespace wtasim
