// The BLAS kernels of this CPU (attention/blas_core.hpp).
#include "attention/blas_core.hpp"

#include <cblas.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace wtasim {

blas_core_info blas_core() {
    blas_core_info b;
    const char* name = openblas_get_corename();
    b.in_use = name ? name : "";
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        b.best = "SkylakeX";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        b.best = "Haswell";
    return b;
}

namespace {
std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

// OpenBLAS's names of kernels older than AVX2 on x86-64: the only choices it is worth restarting to leave.
bool older_than_avx2(const std::string& core) {
    const std::string c = lower(core);
    for (const char* old : {"prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "coppermine",
                            "northwood", "banias", "barcelona", "opteron", "bobcat", "sandybridge"})
        if (c == old) return true;
    return false;
}
}  // namespace

void restart_with_best_blas_core(char** argv) {
    if (std::getenv("OPENBLAS_CORETYPE")) return;
    const char* choice = std::getenv("WTASIM_BLAS_CORE");
    const std::string how = choice ? choice : "";
    if (how == "keep") return;
    const blas_core_info b = blas_core();
    // "as-if-old": take the kernels in use for old ones, so that a test can exercise the restart on any CPU
    if (b.best.empty() || !(older_than_avx2(b.in_use) || how == "as-if-old")) return;
    if (::setenv("OPENBLAS_CORETYPE", b.best.c_str(), 1) != 0) return;
    ::execv("/proc/self/exe", argv);
    ::unsetenv("OPENBLAS_CORETYPE");  // the restart failed: go on with the kernels we have
}

}  // namespace wtasim
