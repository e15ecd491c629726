// Benchmark (not a test): training tokens/s of wtasim's trainer on a model config — forward, loss,
// backward and an AdamW step per batch of random tokens — and peak memory. tools/bench_train_vs_torch.sh
// runs it beside the PyTorch twin (tools/torch_twin.py bench) on the same config, batch and threads.
// Usage: bench_train CONFIG_JSON [batch=8] [seq_len=64] [steps=5] [threads=2]
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "attention/blas_core.hpp"
#include "core/allocator.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "tools/bench_common.hpp"
#include "training/language_model.hpp"
#include "training/objectives.hpp"

using namespace wtasim;

int main(int argc, char** argv) {
    wtasim::restart_with_best_blas_core(argv);  // as wtasim does: the kernels a user gets
    wtasim::keep_freed_memory();
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_train CONFIG_JSON [batch] [seq_len] [steps] [threads]\n");
        return 2;
    }
    std::string json = argv[1];
    if (!json.starts_with("{")) {
        std::ifstream in(json);
        std::stringstream s;
        s << in.rdbuf();
        json = s.str();
    }
    const std::size_t B = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 8;
    const std::size_t N = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 64;
    const int steps = argc > 4 ? std::atoi(argv[4]) : 5;
    thread_limit limit(argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 2);
    try {
        const model_config cfg = model_config::from_json(json, "config");
        language_model m(cfg);
        m.init(1);
        adamw_config oc;
        oc.total = static_cast<std::uint64_t>(steps) + 1;
        oc.warmup = 1;
        adamw opt(oc);
        auto params = m.parameters();
        const std::size_t V = cfg.vocab;
        std::vector<std::int32_t> tokens(B * N), targets(B * N);
        const counter_rng rng(2);
        std::vector<float> logits(B * N * V), d(logits.size());
        auto one_step = [&](std::uint64_t s) {
            for (std::size_t i = 0; i < B * N; ++i) {
                tokens[i] = static_cast<std::int32_t>(rng.below(s, i, static_cast<std::uint32_t>(V)));
                targets[i] = static_cast<std::int32_t>(rng.below(s + 1000, i, static_cast<std::uint32_t>(V)));
            }
            m.zero_grad();
            m.forward(logits.data(), tokens.data(), B, N, {}, true);
            cross_entropy(d.data(), logits.data(), targets.data(), B * N, V);
            m.backward(d.data());
            opt.step(params);
        };
        one_step(0);  // warm-up, as the twin does
        std::uint64_t s = 1;
        const double sec = bench::best_seconds(1, [&] {
            for (int k = 0; k < steps; ++k) one_step(s++);
        });
        rusage ru{};
        getrusage(RUSAGE_SELF, &ru);
        std::printf("wtasim bench: tokens/s=%.1f peak_rss_mb=%.1f threads=%zu blas=OpenBLAS-%s\n",
                    double(B * N) * steps / sec, double(ru.ru_maxrss) / 1024.0, max_threads(),
                    blas_core().in_use.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_train: %s\n", e.what());
        return 1;
    }
    return 0;
}
