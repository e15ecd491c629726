// The neuron demo: a layer of neurons, each driven by a constant input current from a ramp over
// [0, 3), runs T steps forward and one BPTT backward; prints a raster of a few neurons, the layer's
// firing-rate vs input curve, and the energy of the neuron updates under a profile.
#include "tools/demo_neurons.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <vector>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "energy/profile.hpp"
#include "neurons/backend.hpp"

namespace wtasim {

int run_demo(const demo_options& o, std::ostream& out) {
    thread_limit limit(o.threads);
    const neuron_backend& backend = neuron_backend_named(o.backend);
    const bool lif = o.neuron == "lif";
    if (!lif && !backend.supports_nilif())
        throw backend_error("backend \"" + o.backend + "\" does not support neuron \"nilif\"");
    const energy_profile profile = energy_profile_from(o.profile);
    const std::size_t T = o.steps, n = o.neurons;
    const float max_input = 3.0f;
    // Five buffers of T x n floats are kept (the backward needs every step): at most 2^26 neuron-steps (1.3 GB).
    constexpr std::size_t max_neuron_steps = std::size_t{1} << 26;
    if (T * n > max_neuron_steps)
        throw config_error("--neurons " + std::to_string(n) + " x --steps " + std::to_string(T) + " = " +
                           std::to_string(T * n) + " neuron-steps, at most " + std::to_string(max_neuron_steps) +
                           " (the demo keeps every step in memory)");

    std::vector<float> x(T * n), s(T * n), state(T * n), ds(T * n, 1.0f), dx(T * n);
    for (std::size_t t = 0; t < T; ++t)
        for (std::size_t i = 0; i < n; ++i) x[t * n + i] = max_input * static_cast<float>(i) / static_cast<float>(n);

    op_counts ops;
    const auto start = std::chrono::steady_clock::now();
    std::uint64_t events;
    lif_params lp;
    nilif_params np;
    if (lif) {
        events = backend.lif_forward(s.data(), state.data(), x.data(), T, n, lp, &ops, {});
        backend.lif_backward(dx.data(), ds.data(), s.data(), state.data(), T, n, lp, {}, nullptr, nullptr);
    } else {
        events = backend.nilif_forward(s.data(), state.data(), x.data(), T, n, np, &ops);
        backend.nilif_backward(dx.data(), ds.data(), state.data(), T, n, np);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    char line[256];
    out << "wtasim demo: " << n << " " << o.neuron << " neurons, T = " << T << ", backend " << backend.name << ", "
        << max_threads() << " thread(s)\n";
    if (lif)
        std::snprintf(line, sizeof line,
                      "  LIF tau = %.1f, v_th = %.1f, hard reset, decay_input, sigmoid surrogate (alpha %.0f)\n",
                      double(lp.tau), double(lp.v_th), double(lp.sg.alpha));
    else
        std::snprintf(line, sizeof line, "  NI-LIF levels = %d, beta = %.2f\n", np.levels, double(np.beta));
    out << line << "\nraster (one row per neuron; '#' spike, digits = NI-LIF level, '.' silent):\n";
    for (float input : {0.5f, 1.0f, 1.5f, 2.0f, 2.5f, 2.9f}) {
        const auto i = static_cast<std::size_t>(std::ceil(input / max_input * static_cast<float>(n)));
        if (i >= n) continue;
        std::snprintf(line, sizeof line, "  x = %.3f |", double(x[i]));
        out << line;
        for (std::size_t t = 0; t < T; ++t) {
            const float v = s[t * n + i];
            out << (v == 0.0f ? '.'
                    : lif     ? '#'
                              : static_cast<char>('0' + static_cast<int>(v * float(np.levels) + 0.5f)));
        }
        out << "|\n";
    }
    out << "\nfiring rate (events per neuron per step) by input:\n";
    const std::size_t bins = 6;
    for (std::size_t b = 0; b < bins; ++b) {
        const std::size_t lo = b * n / bins, hi = (b + 1) * n / bins;
        double sum = 0.0;
        for (std::size_t t = 0; t < T; ++t)
            for (std::size_t i = lo; i < hi; ++i) sum += s[t * n + i] * (lif ? 1.0f : float(np.levels));
        std::snprintf(line, sizeof line, "  x in [%.2f, %.2f): %.3f\n", double(x[lo]),
                      double(max_input) * double(hi) / double(n), sum / double(T * (hi - lo)));
        out << line;
    }
    const double rate = static_cast<double>(events) / static_cast<double>(T * n);
    std::snprintf(line, sizeof line,
                  "\nresult: %llu events, mean rate %.4f per neuron per step, forward+backward %.2f ms\n",
                  static_cast<unsigned long long>(events), rate, seconds * 1e3);
    out << line;
    out << "\nenergy report (inference forward; profile " << profile.name << "):\n";
    for (std::size_t c = 0; c < n_op_classes; ++c) {
        const auto cls = static_cast<op_class>(c);
        if (ops[cls] == 0) continue;
        std::snprintf(line, sizeof line, "  %-5s %12llu ops x %.3f pJ = %.3f nJ\n",
                      std::string(op_class_name(cls)).c_str(), static_cast<unsigned long long>(ops[cls]),
                      profile.cost(cls), double(ops[cls]) * profile.cost(cls) * 1e-3);
        out << line;
    }
    std::snprintf(line, sizeof line,
                  "  total (full profile)          %.3f nJ  (%.3f pJ per neuron per step)\n"
                  "  paper convention (4.6 MAC + 0.9 AC) %.3f nJ  (neuron updates are not counted by it)\n",
                  profile.energy_pj(ops) * 1e-3, profile.energy_pj(ops) / double(T * n),
                  paper_convention_energy_pj(ops) * 1e-3);
    out << line;
    return 0;
}

}  // namespace wtasim
