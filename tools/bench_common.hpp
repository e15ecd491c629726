// Shared by the benchmarks in tools/: the best of several timed runs (the least disturbed by other load).
#pragma once

#include <algorithm>
#include <chrono>

namespace wtasim::bench {

template <class F>
double best_seconds(int repeats, F&& f) {
    double best = 1e30;
    for (int r = 0; r < repeats; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
}

}  // namespace wtasim::bench
