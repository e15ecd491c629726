// Benchmark (not a test; CUDA builds, run on a GPU): the simulator's cuda backend (the kernel engine with the
// network resident on the device, sim/kernel_engine.hpp) against the cpu backend (the event engine on every
// host thread) and against PyTorch on the same GPU running the same model densely on the same tokens
// (tools/torch_twin.py infer-bench --device cuda: no_grad, BN running statistics, every step of every neuron
// layer as a dense tensor), for batches of B sequences of N tokens; every ratio is taken in one run. Each cell
// also checks the cuda backend's operation counts against the cpu backend's on the same tokens.
// Usage: bench_sim_cuda MODEL [batches=1,16,64,256] [lengths=64,128,256,512] [repeats=3] [cpu_tokens=16384]
//                       [bn_shift=0.9]
//   MODEL: a spiking checkpoint (.h5), or a model config JSON (fresh weights, every BN shift set to bn_shift so
//   that every layer fires; saved to /tmp for PyTorch). A checkpoint shorter than the longest length gets its
//   position table repeated up to it (a trained model at its trained firing rates, on random tokens anyway). The cpu
//   backend runs only where B x N <= cpu_tokens (it is the slow side). PyTorch: $WTASIM_PYTHON (default python3) runs
//   $WTASIM_TOOLS/torch_twin.py (default: this source tree's tools/); "—" where it cannot run.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "model/checkpoint.hpp"
#include "sim/cuda/backend.hpp"
#include "sim/cuda/executor.hpp"
#include "sim/engine.hpp"
#include "sim/kernel_engine.hpp"
#include "tools/bench_common.hpp"
#include "training/language_model.hpp"

using namespace wtasim;

namespace {
std::vector<std::size_t> list_of(const char* text) {
    std::vector<std::size_t> out;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');) out.push_back(std::strtoull(item.c_str(), nullptr, 10));
    return out;
}

std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

// PyTorch's dense inference tokens/s on the GPU (0 where it could not run).
double torch_tokens_per_s(const std::string& checkpoint, const std::vector<std::int32_t>& flat, std::size_t B,
                          std::size_t N, float v_th, int repeats) {
    const std::string tokens = "/tmp/bench_sim_cuda_tokens." + std::to_string(::getpid());
    if (FILE* f = std::fopen(tokens.c_str(), "wb")) {
        std::fwrite(flat.data(), sizeof(std::int32_t), flat.size(), f);
        std::fclose(f);
    }
    const std::string cmd = env_or("WTASIM_PYTHON", "python3") + " " +
                            env_or("WTASIM_TOOLS", WTASIM_SOURCE_DIR "/tools") +
                            "/torch_twin.py infer-bench --device cuda --checkpoint '" + checkpoint + "' --tokens " +
                            tokens + " --batch " + std::to_string(B) + " --seq-len " + std::to_string(N) +
                            " --repeats " + std::to_string(repeats) + " --v-th " + std::to_string(v_th) + " 2>&1";
    double out = 0;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
        char line[512];
        while (std::fgets(line, sizeof line, p))
            if (const char* t = std::strstr(line, "tokens/s="))
                out = std::atof(t + 9);
            else if (std::strstr(line, "Error") || std::strstr(line, "error"))
                std::fprintf(stderr, "torch: %s", line);
        ::pclose(p);
    }
    std::remove(tokens.c_str());
    return out;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_sim_cuda MODEL.h5|CONFIG.json [batches] [lengths] [repeats] [cpu_tokens]\n");
        return 2;
    }
    const std::string model = argv[1];
    const std::vector<std::size_t> batches = list_of(argc > 2 ? argv[2] : "1,16,64,256");
    const std::vector<std::size_t> lengths = list_of(argc > 3 ? argv[3] : "64,128,256,512");
    const int repeats = argc > 4 ? std::atoi(argv[4]) : 3;
    const std::size_t cpu_tokens = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 16384;
    const float bn_shift = argc > 6 ? std::strtof(argv[6], nullptr) : 0.9f;
    std::string path = model;  // a temporary copy when the model is made or extended here
    try {
        checkpoint c;
        if (model.ends_with(".json")) {  // fresh weights that fire: the BN shifts of the tests' fixtures
            std::FILE* f = std::fopen(model.c_str(), "rb");
            if (!f) throw io_error(model + ": cannot be read");
            std::string text;
            char buf[4096];
            for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
            std::fclose(f);
            language_model m(model_config::from_json(text));
            m.init(11);
            for (auto& p : m.parameters())
                if (p.name.ends_with(".bn.bias")) p.value->fill(bn_shift);
            c = weights_checkpoint(m);
            path = "/tmp/bench_sim_cuda_model." + std::to_string(::getpid()) + ".h5";
            save_checkpoint(path, c);
        } else {
            c = load_checkpoint(model);
            model_config cfg = model_config::from_json(c.config);
            std::size_t longest = 0;
            for (std::size_t N : lengths) longest = std::max(longest, N);
            if (longest > cfg.max_len) {  // the position table repeated up to the longest length
                const tensor<float>& pos = c.params.at("embed.pos.weight");
                std::vector<float> tiled(longest * cfg.D);
                for (std::size_t n = 0; n < longest; ++n)
                    std::copy_n(pos.data() + (n % cfg.max_len) * cfg.D, cfg.D, tiled.data() + n * cfg.D);
                c.params["embed.pos.weight"] = tensor<float>({longest, cfg.D}, std::move(tiled));
                cfg.max_len = longest;
                c.config = cfg.to_json();
                c.optimizer.clear();
                path = "/tmp/bench_sim_cuda_model." + std::to_string(::getpid()) + ".h5";
                save_checkpoint(path, c);
            }
        }
        const sim_network net = sim_network::from_checkpoint(c, model);
        const model_config& cfg = net.cfg;
        std::printf("bench_sim_cuda: %s: D %zu, H %zu, F %zu, L %zu, T %zu, V %zu, %s attention; best of %d\n",
                    model.c_str(), cfg.D, cfg.H, cfg.F, cfg.L, cfg.T, cfg.vocab,
                    cfg.block.attn.kind == attention_kind::wta ? "wta" : "other", repeats);
        std::printf("%5s %5s %7s %12s %12s %12s %10s %10s %7s\n", "B", "N", "rate", "cuda tok/s", "cpu tok/s",
                    "torch tok/s", "cuda/cpu", "cuda/torch", "counts");
        if (const std::string why = cuda::simulator_unavailable(); !why.empty()) throw backend_error(why);
        cuda::executor ex;
        kernel_simulator<cuda::executor> sim(ex, net);  // the network uploaded once
        const counter_rng rng(5);
        for (std::size_t N : lengths) {
            if (N > cfg.max_len) continue;
            for (std::size_t B : batches) {
                std::vector<std::vector<std::int32_t>> seqs(B);
                std::vector<std::int32_t> flat;
                for (std::size_t b = 0; b < B; ++b)
                    for (std::size_t n = 0; n < N; ++n) {
                        seqs[b].push_back(
                            static_cast<std::int32_t>(5 + rng.below(b, n, static_cast<std::uint32_t>(cfg.vocab - 5))));
                        flat.push_back(seqs[b].back());
                    }
                const double tok = double(B * N);
                std::vector<sim_result> gpu;
                sim.run({seqs[0]});  // warm-up: first launches, allocations
                const double gpu_s = bench::best_seconds(repeats, [&] { gpu = sim.run(seqs); });
                std::uint64_t events = 0, neurons = 0;
                for (const auto& r : gpu)
                    for (const auto& l : r.layers) events += l.events, neurons += l.neurons;
                char cpu_col[32] = "—", cpu_ratio[32] = "—", same[8] = "—";
                if (B * N <= cpu_tokens) {
                    std::vector<sim_result> host;
                    const double cpu_s = bench::best_seconds(
                        repeats, [&] { host = simulate_batch(net, seqs, sequence_schedule::parallel); });
                    std::snprintf(cpu_col, sizeof cpu_col, "%.0f", tok / cpu_s);
                    std::snprintf(cpu_ratio, sizeof cpu_ratio, "%.2f", cpu_s / gpu_s);
                    bool equal = host.size() == gpu.size();
                    for (std::size_t i = 0; equal && i < host.size(); ++i)
                        equal = host[i].total == gpu[i].total && host[i].per_step == gpu[i].per_step;
                    std::snprintf(same, sizeof same, "%s", equal ? "equal" : "DIFFER");
                }
                const double torch = torch_tokens_per_s(path, flat, B, N, cfg.block.lif.v_th, repeats);
                char torch_col[32] = "—", torch_ratio[32] = "—";
                if (torch > 0) {
                    std::snprintf(torch_col, sizeof torch_col, "%.0f", torch);
                    std::snprintf(torch_ratio, sizeof torch_ratio, "%.2f", tok / gpu_s / torch);
                }
                std::printf("%5zu %5zu %7.3f %12.0f %12s %12s %10s %10s %7s\n", B, N,
                            neurons ? double(events) / double(neurons) : 0.0, tok / gpu_s, cpu_col, torch_col,
                            cpu_ratio, torch_ratio, same);
                std::fflush(stdout);
            }
        }
        if (path != model) std::remove(path.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_sim_cuda: %s\n", e.what());
        if (path != model && !std::getenv("WTASIM_KEEP_MODEL")) std::remove(path.c_str());
        return 1;
    }
}
