// The wtasim command line. Subcommands are thin: they parse options, call the libraries and print.
// Every wtasim::error becomes one line on stderr and exit status 1; a bad option one line and CLI11's code
// (non-zero); a broken invariant "internal error" and 2 (README, "Exit status").
#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <new>
#include <vector>

#include "attention/blas_core.hpp"
#include "core/allocator.hpp"
#include "core/atomic_file.hpp"
#include "core/backend_registry.hpp"
#include "core/error.hpp"
#include "core/json_reader.hpp"
#include "core/progress.hpp"
#include "core/utf8.hpp"
#include "energy/profile.hpp"
#include "neurons/backend.hpp"
#include "scenarios/generate.hpp"
#include "scenarios/predict.hpp"
#include "scenarios/run.hpp"
#include "scenarios/suite.hpp"
#include "scenarios/task_run.hpp"
#include "scenarios/train.hpp"
#include "serve/service.hpp"
#include "sim/trace.hpp"
#include "tools/demo_neurons.hpp"
#include "training/tokenizer.hpp"

#include <nlohmann/json.hpp>
#include "model/checkpoint.hpp"
#include "training/trainer.hpp"

namespace {
// A whole number in [lo, hi], written as digits only: "-1" is refused, never wrapped to 2^64 - 1.
CLI::Validator whole(std::uint64_t lo, std::uint64_t hi = UINT64_MAX) {
    return CLI::Validator(
        [lo, hi](std::string& text) -> std::string {
            std::uint64_t v = 0;
            const char* end = text.data() + text.size();
            const auto [ptr, ec] = std::from_chars(text.data(), end, v);
            if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || ec != std::errc() ||
                ptr != end)
                return "\"" + text + "\" is not a whole number >= " + std::to_string(lo);
            if (v < lo) return text + " must be >= " + std::to_string(lo);
            if (v > hi) return text + " must be <= " + std::to_string(hi);
            return "";
        },
        "UINT");
}

// A finite number >= 0 (not "nan", not "inf").
CLI::Validator finite_non_negative() {
    return CLI::Validator(
        [](std::string& text) -> std::string {
            double v = 0;
            const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
            if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v) || v < 0)
                return "\"" + text + "\" is not a finite number >= 0";
            return "";
        },
        "NUMBER");
}

// The number of single-character edits (insert, delete, substitute) between two words.
std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = up;
        }
    }
    return row[b.size()];
}

// "" when `word` is a subcommand of `app` (or an option); otherwise the error line naming the closest subcommand.
std::string unknown_subcommand(const CLI::App& app, const std::string& word) {
    if (word.empty() || word[0] == '-') return "";
    std::string best;
    std::size_t best_distance = SIZE_MAX;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        if (sub->get_name() == word) return "";
        const std::size_t d = edit_distance(word, sub->get_name());
        if (d < best_distance) best_distance = d, best = sub->get_name();
    }
    std::string line = "unknown subcommand \"" + word + "\"";
    if (best_distance <= std::max<std::size_t>(2, word.size() / 3)) line += "; did you mean \"" + best + "\"?";
    return line;
}

const CLI::Validator non_empty(
    [](std::string& text) -> std::string { return text.empty() ? "expected a non-empty value" : ""; }, "TEXT");

// A simulator backend that this build can run here; otherwise why not (no CUDA, no GPU) and the choices.
const CLI::Validator sim_backend_check(
    [](std::string& text) -> std::string {
        try {
            wtasim::sim_backend_named(text);
            return "";
        } catch (const std::exception& e) {
            return e.what();
        }
    },
    "BACKEND");
}  // namespace

int main(int argc, char** argv) {
    wtasim::restart_with_best_blas_core(argv);  // OpenBLAS's right kernels for this CPU (attention/blas_core.hpp)
    wtasim::keep_freed_memory();
    wtasim::install_temp_file_cleanup();
    wtasim::configure_progress_from_environment();  // a bar on a terminal, plain lines in a log (stderr)
    CLI::App app{"wtasim: winner-take-all spiking transformers — train, simulate, and count the energy"};
    const wtasim::blas_core_info blas = wtasim::blas_core();
    app.set_version_flag("--version", std::string("wtasim ") + WTASIM_VERSION + " (dense maths: OpenBLAS " +
                                          blas.in_use + " kernels; this CPU supports " +
                                          (blas.best.empty() ? "neither AVX2 nor AVX-512" : blas.best) + ")");
    app.require_subcommand(1);
    app.option_defaults()->always_capture_default();  // --help shows each option's default
    wtasim::path_policy paths;  // how wtasim serve confines the scenarios it runs (core/json_reader.hpp)
    app.add_option("--paths-from", paths.base,
                   "Relative paths in scenarios start in this folder instead of the scenario's own")
        ->check(CLI::ExistingDirectory);
    app.add_option("--confine-to", paths.roots, "Refuse any path a scenario names outside these folders (repeat it)")
        ->check(CLI::ExistingDirectory);

    wtasim::demo_options demo;
    auto* demo_cmd = app.add_subcommand("demo", "Drive a layer of spiking neurons and print its spikes and energy");
    demo_cmd->add_option("--neuron", demo.neuron, "Neuron kind")->check(CLI::IsMember({"lif", "nilif"}));
    demo_cmd->add_option("--backend", demo.backend,
                         "Neuron backend: " + wtasim::join_backend_names(wtasim::neuron_backend_names()));
    demo_cmd->add_option("--threads", demo.threads, "Threads (0 = all)")->check(whole(0, 1024));
    demo_cmd->add_option("--steps", demo.steps, "Time steps T")->check(whole(1, 1000));
    demo_cmd->add_option("--neurons", demo.neurons, "Neurons in the layer")->check(whole(1, 100000000));
    demo_cmd->add_option("--profile", demo.profile,
                         "Energy profile: a shipped name (horowitz45-fp32, -fp16, -int8) or a JSON file");

    std::string scenario_path, checkpoint_path, split = "valid";
    bool resume = false;
    std::size_t threads = 0, batches = 16;
    auto* train_cmd =
        app.add_subcommand("train", "Pretrain a model as a training scenario describes (docs/model.md §4, §5)");
    train_cmd->add_option("scenario", scenario_path, "Training scenario JSON")->required();
    train_cmd->add_flag("--resume", resume, "Continue from <output>/checkpoint.h5, bit for bit");
    train_cmd->add_option("--threads", threads, "Threads (overrides the scenario; 0 = the scenario's)")
        ->check(whole(0, 1024));
    std::size_t steps_override = 0;
    std::string output_override;
    train_cmd->add_option("--steps", steps_override, "Train this many steps instead (a quick run of a scenario)")
        ->check(whole(1));
    train_cmd->add_option("--output", output_override, "Output folder instead of the scenario's")->check(non_empty);
    auto* eval_cmd = app.add_subcommand("eval", "Evaluate a checkpoint on the validation or test split");
    eval_cmd->add_option("checkpoint", checkpoint_path, "Checkpoint (HDF5)")->required();
    eval_cmd->add_option("--split", split, "valid or test")->check(CLI::IsMember({"valid", "test"}));
    eval_cmd->add_option("--batches", batches, "Batches of the scenario's size to evaluate")->check(whole(1, 1u << 20));
    // a task checkpoint (or --data): its task's metrics through the simulator (scenarios/predict.hpp)
    wtasim::task_eval_request task_eval;
    eval_cmd->add_option("--data", task_eval.data, "Task checkpoint: an evaluation file in the task's format")
        ->check(CLI::ExistingFile);
    eval_cmd->add_option("--format", task_eval.format, "Task checkpoint: the file's format when the task does not say")
        ->check(CLI::IsMember({"glue", "boolq", "arc", "openbookqa", "piqa", "hellaswag", "winogrande", "squad"}));
    eval_cmd->add_option("--max", task_eval.max_examples, "Task checkpoint: at most this many examples (0 = all)")
        ->check(whole(0));
    eval_cmd->add_option("--predictions", task_eval.predictions, "Task checkpoint: write predictions.jsonl here")
        ->check(non_empty);
    eval_cmd->add_option("--profile", task_eval.profile, "Task checkpoint: energy profile")->check(non_empty);

    wtasim::predict_request pred;
    auto* pred_cmd = app.add_subcommand(
        "predict", "Run a fine-tuned task checkpoint on one input: its prediction and the energy of that input");
    pred_cmd->add_option("checkpoint", pred.checkpoint, "Task checkpoint (runs/tasks/<task>/spiking.h5)")
        ->required()
        ->check(CLI::ExistingFile);
    pred_cmd->add_option("--text", pred.text, "The input (span QA: the question)")->required()->check(non_empty);
    pred_cmd->add_option("--text-b", pred.text_b, "The second text of a pair task (span QA: the context)");
    pred_cmd->add_option("--choice", pred.choices, "A decoder without a task head: a continuation (repeat it)");
    pred_cmd->add_option("--profile", pred.profile, "Energy profile: a shipped name or a JSON file")->check(non_empty);
    pred_cmd
        ->add_option("--backend", pred.backend,
                     "Simulator backend: " + wtasim::join_backend_names(wtasim::sim_backend_names()))
        ->check(sim_backend_check);
    pred_cmd->add_flag("--json", pred.json, "Print one JSON object");

    // `simulate` is a run scenario written on the command line (scenarios/run.hpp)
    wtasim::run_scenario sim;
    sim.text = "In the beginning God created";
    auto* sim_cmd =
        app.add_subcommand("simulate", "Run a spiking checkpoint event by event on a prompt, with its energy report");
    sim_cmd->add_option("checkpoint", sim.checkpoint, "Checkpoint (HDF5) of a spiking model")
        ->required()
        ->check(CLI::ExistingFile);
    sim_cmd->add_option("--text", sim.text, "Prompt")->check(non_empty);
    sim_cmd->add_option("--generate", sim.generate, "Greedy tokens to generate after the prompt")
        ->check(whole(0, 4096));
    sim_cmd->add_option("--profile", sim.profile, "Energy profile: a shipped name or a JSON file")->check(non_empty);
    sim_cmd->add_option("--report-json", sim.report_json, "Write the energy report as JSON")->check(non_empty);
    sim_cmd->add_option("--report-md", sim.report_md, "Write the energy report as Markdown")->check(non_empty);
    sim_cmd->add_option("--report-html", sim.report_html, "Write the energy report as a self-contained HTML page")
        ->check(non_empty);
    sim_cmd
        ->add_option("--backend", sim.backend,
                     "Simulator backend: " + wtasim::join_backend_names(wtasim::sim_backend_names()))
        ->check(sim_backend_check);
    sim_cmd->add_option("--threads", sim.threads, "Threads (0 = all)")->check(whole(0, 1024));
    sim_cmd->add_option("--trace", sim.trace, "Write an HDF5 trace of the run (spikes, counts, winners, energy)")
        ->check(non_empty);
    std::string gen_checkpoint, gen_text = "In the beginning", gen_profile = "horowitz45-fp32";
    std::size_t gen_tokens = 20, gen_top_k = 0;
    double gen_temperature = 0.0;
    std::uint64_t gen_seed = 1;
    auto* gen_cmd =
        app.add_subcommand("generate", "Stream a WD model token by token (K/V spike cache), with energy per token");
    gen_cmd->add_option("checkpoint", gen_checkpoint, "Checkpoint (HDF5) of a causal spiking model")
        ->required()
        ->check(CLI::ExistingFile);
    gen_cmd->add_option("--text", gen_text, "Prompt");
    gen_cmd->add_option("--tokens", gen_tokens, "Tokens to generate")->check(whole(0, 1u << 20));
    gen_cmd->add_option("--temperature", gen_temperature, "0 = greedy")->check(finite_non_negative());
    gen_cmd->add_option("--top-k", gen_top_k, "Sample among the k most likely (0 = all)")->check(whole(0, 1u << 24));
    gen_cmd->add_option("--seed", gen_seed, "Sampling seed")->check(whole(0));
    gen_cmd->add_option("--profile", gen_profile, "Energy profile: a shipped name or a JSON file")->check(non_empty);
    std::string gen_backend = "cpu";
    gen_cmd
        ->add_option("--backend", gen_backend,
                     "Simulator backend: " + wtasim::join_backend_names(wtasim::sim_backend_names()))
        ->check(sim_backend_check);
    std::string run_path;
    auto* run_cmd =
        app.add_subcommand("run", "Run a run scenario (docs/scenarios.md): simulation, energy reports, trace");
    run_cmd->add_option("scenario", run_path, "Run scenario JSON")->required();
    std::string task_path;
    wtasim::task_overrides task_o;
    auto* task_cmd = app.add_subcommand(
        "task", "Fine-tune on a task scenario (docs/tasks.md), score through the simulator, report energy");
    task_cmd->add_option("scenario", task_path, "Task scenario JSON")->required();
    auto* suite_cmd = app.add_subcommand(
        "suite", "Run a task suite (docs/tasks.md) and write the Markdown table of score and energy");
    suite_cmd->add_option("suite", task_path, "Suite JSON")->required();
    for (auto* cmd : {task_cmd, suite_cmd}) {
        cmd->add_option("--steps", task_o.steps, "Fine-tuning steps instead of the scenario's (a quick run)")
            ->check(whole(1, 1u << 24));
        cmd->add_option("--max-train", task_o.max_train, "At most this many training examples per task")
            ->check(whole(1));
        cmd->add_option("--max-eval", task_o.max_eval, "At most this many evaluation examples per task")
            ->check(whole(1));
        cmd->add_option("--output", task_o.output, "Output folder instead of the scenario's")->check(non_empty);
        cmd->add_option("--backend", task_o.backend,
                        "Simulator backend of every simulation instead of the scenario's: " +
                            wtasim::join_backend_names(wtasim::sim_backend_names()))
            ->check(sim_backend_check);
    }
    std::string trace_path;
    auto* trace_cmd = app.add_subcommand("trace", "Inspect an HDF5 trace");
    auto* trace_summary = trace_cmd->add_subcommand("summary", "Firing rates per layer and a small raster");
    trace_summary->add_option("file", trace_path, "Trace (HDF5)")->required();
    std::vector<std::string> raster_layers;
    trace_summary->add_option("--layer", raster_layers,
                              "A layer to draw a raster of (repeat it; default: the busiest)");
    trace_cmd->require_subcommand(1);
    std::string export_out;
    auto* export_cmd = app.add_subcommand("export", "Copy a checkpoint without its optimizer state (for inference)");
    export_cmd->add_option("checkpoint", checkpoint_path, "Checkpoint (HDF5)")->required();
    export_cmd->add_option("output", export_out, "Output checkpoint (HDF5)")->required();
    auto* base_cmd = app.add_subcommand("baselines", "Unigram and bigram perplexity of a training scenario's data");
    base_cmd->add_option("scenario", scenario_path, "Training scenario JSON")->required();

    wtasim::serve::serve_options srv;
    unsigned read_timeout_ms = 10000;
    auto* serve_cmd = app.add_subcommand(
        "serve", "Serve runs, tasks, trainings and generation over HTTP, with a dashboard (docs/serve.md)");
    serve_cmd->add_option("--port", srv.port, "TCP port (0: any free port, printed)")->check(whole(0, 65535));
    serve_cmd->add_option("--bind", srv.bind, "Address to listen on (loopback by default)")->check(non_empty);
    serve_cmd->add_option("--data-dir", srv.data_dir, "Folder of the server's runs and API token")
        ->required()
        ->check(non_empty);
    serve_cmd
        ->add_option("--root", srv.roots,
                     "A folder scenario paths may name; relative paths start in the first (repeat it; "
                     "default: the working directory)")
        ->check(CLI::ExistingDirectory);
    serve_cmd->add_option("--max-simulations", srv.queue.simulations, "Run scenarios at once")->check(whole(1, 256));
    serve_cmd->add_option("--max-trainings", srv.queue.trainings, "Train and task scenarios at once")
        ->check(whole(1, 64));
    serve_cmd->add_option("--threads", srv.limits.threads, "Threads serving HTTP")->check(whole(1, 64));
    serve_cmd->add_option("--max-body", srv.limits.body_bytes, "Largest request body in bytes")
        ->check(whole(1024, 64u << 20));
    serve_cmd
        ->add_option("--read-timeout-ms", read_timeout_ms,
                     "A request must arrive whole within this many milliseconds (idle connections too)")
        ->check(whole(100, 3600000));
    serve_cmd->add_option("--profile", srv.profile, "Energy profile of generation unless a request names one")
        ->check(non_empty);

    if (argc > 1) {
        const std::string unknown = unknown_subcommand(app, argv[1]);
        if (!unknown.empty()) {
            std::fprintf(stderr, "wtasim: %s (see wtasim --help)\n", unknown.c_str());
            return 1;
        }
    }
    try {
        app.parse(argc, argv);
        if (!paths.base.empty() || !paths.roots.empty()) wtasim::set_path_policy(paths);
        if (*serve_cmd) {
            srv.limits.read_timeout = std::chrono::milliseconds(read_timeout_ms);
            return wtasim::serve::serve(srv, std::cout);
        }
        if (*pred_cmd) {
            wtasim::require_utf8(pred.text, "--text");
            wtasim::require_utf8(pred.text_b, "--text-b");
            for (const auto& c : pred.choices) wtasim::require_utf8(c, "--choice");
            return wtasim::predict(pred, std::cout);
        }
        if (*sim_cmd) {
            wtasim::require_utf8(sim.text, "--text");
            if (wtasim::has_task_head(sim.checkpoint)) {  // a fine-tuned classifier: its prediction, as predict
                for (const char* o : {"--generate", "--report-json", "--report-md", "--report-html", "--trace"})
                    if (sim_cmd->count(o))
                        throw wtasim::config_error(std::string(o) + ": " + sim.checkpoint +
                                                   " is a task checkpoint; `wtasim task` writes its reports and trace");
                wtasim::predict_request q;
                q.checkpoint = sim.checkpoint;
                q.text = sim.text;
                q.profile = sim.profile;
                q.backend = sim.backend;
                return wtasim::predict(q, std::cout);
            }
            sim.origin = "command line";
            sim.json = nlohmann::json{{"command", "simulate"},
                                      {"checkpoint", sim.checkpoint},
                                      {"text", sim.text},
                                      {"profile", sim.profile}}
                           .dump();
            return wtasim::run(sim, std::cout);
        }
        if (*task_cmd) {
            wtasim::task_scenario s = wtasim::task_scenario::load(task_path);
            task_o.apply(s);
            wtasim::run_task(s, std::cout);
            return 0;
        }
        if (*suite_cmd) return wtasim::run_suite(task_path, task_o, std::cout);
        if (*run_cmd) return wtasim::run(wtasim::run_scenario::load(run_path), std::cout);
        if (*gen_cmd) {
            wtasim::require_utf8(gen_text, "--text");
            const wtasim::generator gen(gen_checkpoint, gen_profile, gen_backend);
            wtasim::generate_request q;
            q.text = gen_text;
            q.tokens = gen_tokens;
            q.temperature = gen_temperature;
            q.top_k = gen_top_k;
            q.seed = gen_seed;
            const wtasim::generate_summary sum = gen.run(
                q,
                [&](const wtasim::generate_summary& p) {
                    if (p.prompt_cut)
                        std::cerr << "note: the prompt is cut to its last " << p.prompt_tokens << " tokens (max_len "
                                  << p.max_len << ")\n";
                    std::cout << p.prompt_text << std::flush;
                },
                [&](const wtasim::generated_token& t) {
                    std::cout << t.text << std::flush;
                    return true;
                });
            std::cout << "\n";
            const std::size_t generated = sum.generated;
            if (generated < gen_tokens)
                std::cerr << "note: generated " << generated << " of " << gen_tokens
                          << " tokens: the model's max_len is " << sum.max_len << " tokens, prompt included\n";
            const wtasim::op_counts& gen_ops = sum.generated_ops;
            const double gen_seconds = sum.seconds;
            char line[300];
            const double per = generated ? 1.0 / double(generated) : 0.0;
            std::snprintf(line, sizeof line,
                          "\nprompt %zu tokens: %.3f nJ (full profile %s); generated %zu tokens: %.3f nJ per token "
                          "(paper convention %.3f nJ per token), %.0f AC and %llu NU per token\n",
                          sum.prompt_tokens, sum.prompt_energy_pj * 1e-3, sum.profile.c_str(), generated,
                          sum.generated_energy_pj * 1e-3 * per, sum.generated_paper_energy_pj * 1e-3 * per,
                          double(gen_ops[wtasim::op_class::ac]) * per,
                          static_cast<unsigned long long>(double(gen_ops[wtasim::op_class::nu]) * per));
            std::cout << line;
            std::snprintf(line, sizeof line,
                          "generation: %zu tokens in %.3f s wall: %.1f tokens/s (streaming, one token per step, "
                          "K/V spike cache)\n",
                          generated, gen_seconds, double(generated) / std::max(gen_seconds, 1e-9));
            std::cout << line;
            return 0;
        }
        if (*trace_cmd) {
            wtasim::print_trace_summary(trace_path, std::cout, raster_layers);
            return 0;
        }
        if (*export_cmd) {
            wtasim::refuse_overwriting_inputs({{"export output", export_out}}, {{"checkpoint", checkpoint_path}});
            wtasim::check_replaceable(export_out);
            wtasim::checkpoint c = wtasim::load_checkpoint(checkpoint_path);
            c.optimizer.clear();
            wtasim::save_checkpoint(export_out, c);
            std::cout << "exported " << checkpoint_path << " (step " << c.step << ") to " << export_out
                      << " without optimizer state\n";
            return 0;
        }
        if (*base_cmd) {
            wtasim::baselines(wtasim::load_train_scenario(scenario_path), std::cout);
            return 0;
        }
        if (*demo_cmd) return wtasim::run_demo(demo, std::cout);
        if (*train_cmd) {
            wtasim::train_scenario s = wtasim::load_train_scenario(scenario_path);
            if (threads) s.threads = threads;
            if (steps_override) {
                s.steps = steps_override;
                s.opt.total = steps_override;
                s.opt.warmup = std::min<std::uint64_t>(s.opt.warmup, steps_override);
                s.eval_batches = std::min<std::size_t>(s.eval_batches, 2);
            }
            if (!output_override.empty()) s.output = output_override;
            wtasim::train_options o;
            o.resume = resume;
            wtasim::train(s, o, std::cout);
            return 0;
        }
        if (*eval_cmd) {
            if (!task_eval.data.empty() || wtasim::has_task_head(checkpoint_path)) {
                task_eval.checkpoint = checkpoint_path;
                if (eval_cmd->count("--split")) task_eval.split = split;  // else the task's scored split, test
                return wtasim::evaluate_task_checkpoint(task_eval, std::cout);
            }
            wtasim::evaluate_checkpoint_file(checkpoint_path, split, batches, std::cout);
            return 0;
        }
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {  // one line, as every other error
        std::string what = e.what();
        std::replace(what.begin(), what.end(), '\n', ' ');
        std::fprintf(stderr, "wtasim: %s (see wtasim --help)\n", what.c_str());
        return e.get_exit_code() != 0 ? e.get_exit_code() : 1;
    } catch (const wtasim::error& e) {
        std::fprintf(stderr, "wtasim: %s\n", e.what());
        return 1;
    } catch (const std::filesystem::filesystem_error& e) {
        std::fprintf(stderr, "wtasim: %s: %s\n", e.path1().c_str(), e.code().message().c_str());
        return 1;
    } catch (const nlohmann::json::exception& e) {  // a library's message, without its exception prefix
        std::fprintf(stderr, "wtasim: unusable JSON data: %s\n", wtasim::json_reader::reason(e).c_str());
        return 1;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "wtasim: out of memory (an input asks for more than this machine has)\n");
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "wtasim: internal error: %s\n", e.what());
        return 2;
    }
    return 0;
}
