// Benchmark (not a test): the event-driven simulator's tokens/s against the trainer's evaluation forward on
// the same checkpoint and tokens, at the model's natural firing rates and with the LIF threshold swept
// (which sweeps the firing rate), with 1 and 2 threads; accumulates per second against the machine's copy
// bandwidth measured in the same run (an AC streams one 4-byte weight); peak memory. The simulator's and the
// trainer's repeats alternate and each side's best counts, so the ratio compares like spells of a shared
// machine's load. And a PyTorch column:
// the same checkpoint and tokens through tools/torch_twin.py's dense inference (no_grad, BN running
// statistics; Debian's PyTorch on OpenBLAS with the CPU's best kernels, the same thread count), run from here
// so that every ratio is taken in one run ("—" when /usr/bin/python3 has no torch).
// Usage: bench_sim [checkpoint=models/wd-kjv-small.h5] [sequences=16] [seq_len=64] [repeats=3]
//                  [thresholds=0.75,1,1.5,2] (the LIF thresholds of the sweep, comma-separated)
//                  [threads=1,2] [sim] ("sim": the simulator's columns only, without the trainer and PyTorch)
// 'AC/token' is the simulation's accumulates per token: what halving the events saves depends on which
// events go, since an event costs its fan-out (an sn1 spike feeds Q, K and V: 3 D ACs; an sn2 spike fc1: F; an sn_h
// spike D).
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "attention/blas_core.hpp"
#include "core/allocator.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "sim/engine.hpp"
#include "tools/bench_common.hpp"
#include "training/language_model.hpp"

using namespace wtasim;

namespace {
double copy_bytes_per_s(int repeats) {
    std::vector<char> src(std::size_t{256} << 20, 1), dst(src.size(), 0);
    const std::size_t piece = 1 << 20, pieces = src.size() / piece;
    const double s = bench::best_seconds(repeats, [&] {
        parallel_for(pieces, 1, [&](std::size_t b, std::size_t e) {
            std::memcpy(dst.data() + b * piece, src.data() + b * piece, (e - b) * piece);
        });
    });
    return 2.0 * double(pieces * piece) / s;
}

// PyTorch's dense inference tokens/s for each threshold, at `threads` threads (0 where it could not run).
std::vector<double> torch_tokens_per_s(const std::string& checkpoint, const std::vector<std::int32_t>& flat,
                                       std::size_t B, std::size_t N, std::size_t threads,
                                       const std::vector<float>& thresholds, int repeats) {
    std::vector<double> out(thresholds.size(), 0.0);
    const std::string tokens = "/tmp/bench_sim_tokens." + std::to_string(::getpid());
    if (FILE* f = std::fopen(tokens.c_str(), "wb")) {
        std::fwrite(flat.data(), sizeof(std::int32_t), flat.size(), f);
        std::fclose(f);
    }
    const blas_core_info blas = blas_core();
    std::string cmd =
        "OPENBLAS_NUM_THREADS=" + std::to_string(threads) + " OMP_NUM_THREADS=" + std::to_string(threads) +
        (blas.best.empty() || std::getenv("OPENBLAS_CORETYPE") ? "" : " OPENBLAS_CORETYPE=" + blas.best) +
        " /usr/bin/python3 " WTASIM_SOURCE_DIR "/tools/torch_twin.py infer-bench --checkpoint '" + checkpoint +
        "' --tokens " + tokens + " --batch " + std::to_string(B) + " --seq-len " + std::to_string(N) + " --threads " +
        std::to_string(threads) + " --repeats " + std::to_string(repeats) + " --v-th";
    for (float v : thresholds) cmd += " " + std::to_string(v);
    cmd += " 2>/dev/null";
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
        char line[256];
        std::size_t i = 0;
        while (std::fgets(line, sizeof line, p) && i < out.size())
            if (const char* t = std::strstr(line, "tokens/s=")) out[i++] = std::atof(t + 9);
        ::pclose(p);
    }
    std::remove(tokens.c_str());
    return out;
}
}  // namespace

int main(int argc, char** argv) {
    wtasim::restart_with_best_blas_core(argv);  // the trainer's forward on the kernels a user gets
    wtasim::keep_freed_memory();
    const std::string path = argc > 1 ? argv[1] : "models/wd-kjv-small.h5";
    const std::size_t B = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 16;
    const std::size_t N = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 64;
    const int repeats = argc > 4 ? std::atoi(argv[4]) : 3;
    try {
        checkpoint c = load_checkpoint(path);
        const model_config base = model_config::from_json(c.config);
        std::vector<std::vector<std::int32_t>> seqs(B);
        std::vector<std::int32_t> flat;
        const counter_rng rng(5);
        for (std::size_t b = 0; b < B; ++b)
            for (std::size_t n = 0; n < N; ++n) {
                seqs[b].push_back(
                    static_cast<std::int32_t>(5 + rng.below(b, n, static_cast<std::uint32_t>(base.vocab - 5))));
                flat.push_back(seqs[b].back());
            }
        std::printf("simulator vs trainer evaluation forward: %s, %zu sequences x %zu tokens, best of %d\n",
                    path.c_str(), B, N, repeats);
        std::printf("%7s %5s %8s %10s %12s %14s %10s %12s %10s %12s %10s\n", "threads", "v_th", "rate", "AC/token",
                    "sim tok/s", "trainer tok/s", "sim/train", "torch tok/s", "sim/torch", "AC/s", "AC bw");
        // a comma-separated list of positive numbers (argument i), or `fallback` when it is not given
        auto list = [&](int i, std::vector<float> fallback) {
            if (argc <= i) return fallback;
            std::vector<float> out;
            for (const char* p = argv[i]; *p;) {
                char* end = nullptr;
                const float v = std::strtof(p, &end);
                if (end == p || v <= 0.0f || (*end && *end != ','))
                    throw std::runtime_error(std::string("argument ") + std::to_string(i) + " '" + argv[i] +
                                             "': expected positive numbers, comma-separated");
                out.push_back(v);
                p = *end ? end + 1 : end;
            }
            return out;
        };
        const std::vector<float> thresholds = list(5, {0.75f, 1.0f, 1.5f, 2.0f});
        const std::vector<float> thread_counts = list(6, {1.0f, 2.0f});
        for (const float tc : thread_counts)
            if (tc != static_cast<float>(static_cast<std::size_t>(tc)))
                throw std::runtime_error(std::string("argument 6 '") + argv[6] +
                                         "': expected whole thread counts, comma-separated");
        const bool sim_only = argc > 7 && std::string(argv[7]) == "sim";
        if (argc > 7 && !sim_only) throw std::runtime_error(std::string("argument 7 '") + argv[7] + "': expected sim");
        for (const float tc : thread_counts) {
            const auto threads = static_cast<std::size_t>(tc);
            const std::vector<double> torch = sim_only
                                                  ? std::vector<double>(thresholds.size(), 0.0)
                                                  : torch_tokens_per_s(path, flat, B, N, threads, thresholds, repeats);
            thread_limit limit(threads);
            const double bw = copy_bytes_per_s(2);
            for (std::size_t vi = 0; vi < thresholds.size(); ++vi) {
                const float v_th = thresholds[vi];
                model_config cfg = base;
                cfg.block.lif.v_th = v_th;
                checkpoint ck = c;
                ck.config = cfg.to_json();
                const sim_network net = sim_network::from_checkpoint(ck, path);
                std::vector<sim_result> results;
                std::optional<language_model> m;
                std::vector<float> logits;
                if (!sim_only) {
                    m.emplace(cfg);
                    for (auto& p : m->parameters()) *p.value = ck.params.at(p.name);
                    for (auto& b : m->buffers()) *b.value = ck.buffers.at(b.name);
                    logits.resize(B * N * cfg.vocab);
                }
                // the simulator's and the trainer's repeats alternate, so that both sides of the ratio see the
                // same spells of load on a shared machine; each side's best run counts
                double sim_s = 1e30, train_s = sim_only ? 0.0 : 1e30;
                for (int rep = 0; rep < repeats; ++rep) {
                    sim_s = std::min(sim_s, bench::best_seconds(1, [&] {
                                         results = simulate_batch(net, seqs, sequence_schedule::parallel);
                                     }));
                    if (m)
                        train_s = std::min(train_s, bench::best_seconds(1, [&] {
                                               m->forward(logits.data(), flat.data(), B, N, {}, false);
                                           }));
                }
                std::uint64_t events = 0, neurons = 0, acs = 0;
                for (const auto& r : results) {
                    acs += r.total[op_class::ac];
                    for (const auto& l : r.layers) events += l.events, neurons += l.neurons;
                }
                const double tok = double(B * N);
                const double ac_per_s = double(acs) / sim_s;
                char torch_col[32] = "—", ratio_col[32] = "—", train_col[32] = "—", train_ratio[32] = "—";
                if (torch[vi] > 0) {
                    std::snprintf(torch_col, sizeof torch_col, "%.0f", torch[vi]);
                    std::snprintf(ratio_col, sizeof ratio_col, "%.2f", tok / sim_s / torch[vi]);
                }
                if (train_s > 0) {
                    std::snprintf(train_col, sizeof train_col, "%.0f", tok / train_s);
                    std::snprintf(train_ratio, sizeof train_ratio, "%.2f", train_s / sim_s);
                }
                std::printf("%7zu %5.2f %8.4f %10.0f %12.0f %14s %10s %12s %10s %12.3e %10.3f\n", threads, double(v_th),
                            double(events) / double(neurons), double(acs) / tok, tok / sim_s, train_col, train_ratio,
                            torch_col, ratio_col, ac_per_s, 4.0 * ac_per_s / bw);
            }
        }
        rusage ru{};
        getrusage(RUSAGE_SELF, &ru);
        std::printf("peak RSS %.1f MB; 'AC bw' = 4 bytes per AC / copy bandwidth of the same run\n",
                    double(ru.ru_maxrss) / 1024.0);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_sim: %s\n", e.what());
        return 1;
    }
    return 0;
}
