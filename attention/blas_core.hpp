// The BLAS kernels this CPU gets. OpenBLAS 0.3.21 (Debian 12) chooses its kernels when it is loaded and takes
// some AVX-512 CPUs for a "Prescott" (SSE3): its sgemm then runs at about a fifth of its speed
// (docs/benchmarks.md, "Dense maths"). It reads OPENBLAS_CORETYPE only at load time, so a program that wants
// the right kernels without its user setting anything restarts itself once with that variable set:
//   - blas_core() names the kernels in use and the ones this CPU supports;
//   - restart_with_best_blas_core(argv) re-executes the program (same pid, arguments and environment plus
//     OPENBLAS_CORETYPE) when OpenBLAS chose older kernels than the CPU supports; it returns (and does
//     nothing) when they already match, when OPENBLAS_CORETYPE is set (the user's choice, and the guard
//     against a loop), when WTASIM_BLAS_CORE=keep, or when the restart fails. WTASIM_BLAS_CORE=as-if-old
//     restarts as if the kernels were old (CTest's check of the restart on a CPU that OpenBLAS identifies).
#pragma once

#include <string>

namespace wtasim {

struct blas_core_info {
    std::string in_use;  // OpenBLAS's core name ("Prescott", "SkylakeX", "Haswell")
    std::string best;    // what this CPU supports ("SkylakeX" with AVX-512 F/BW/DQ/VL, "Haswell" with AVX2+FMA)
};
blas_core_info blas_core();

void restart_with_best_blas_core(char** argv);

}  // namespace wtasim
