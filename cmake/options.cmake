# Build options and the one INTERFACE target (wtasim_config) that carries configure-time defines,
# warnings and floating-point rules to every target of the project.
option(WTASIM_TESTS "Build the doctest suites" ON)
option(WTASIM_BENCHMARKS "Build the benchmarks in tools/" ON)
set(WTASIM_CUDA "AUTO" CACHE STRING "Build the CUDA backend: AUTO (when nvcc is found), ON, OFF")
set_property(CACHE WTASIM_CUDA PROPERTY STRINGS AUTO ON OFF)
option(WTASIM_NATIVE "Compile for this machine's CPU (-march=native); results stay bit-identical, only the vector width changes" ON)
set(WTASIM_SANITIZE "" CACHE STRING "Sanitizers to build with, e.g. address,undefined")
option(WTASIM_PYTHON "Build the Python module wtasim (pybind11; python/, docs/python.md)" ON)
option(WTASIM_FUZZ "Build the libFuzzer targets of tests/fuzz (clang only; docs/hardening.md)" OFF)

find_program(WTASIM_CCACHE ccache)
if(WTASIM_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${WTASIM_CCACHE}")
  set(CMAKE_CUDA_COMPILER_LAUNCHER "${WTASIM_CCACHE}")
endif()

add_library(wtasim_config INTERFACE)
target_include_directories(wtasim_config INTERFACE "${PROJECT_SOURCE_DIR}")
target_compile_options(wtasim_config INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion>
  # GCC 12 reports impossible std::string memcpy overlaps at -O3 (GCC bug 105651): a known false positive.
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CXX_COMPILER_ID:GNU>>:-Wno-restrict>
  # Results must not depend on whether the compiler fuses a*b+c: the reference and the fast kernels
  # are compared bit for bit, and the simulator must reproduce the trainer's spikes.
  $<$<COMPILE_LANGUAGE:CXX>:-ffp-contract=off>
  # FP operations raise no traps we rely on; without this GCC refuses to if-convert (and so to
  # vectorise) loops with float selects such as the surrogate's clamp. Values are unaffected.
  $<$<COMPILE_LANGUAGE:CXX>:-fno-trapping-math>
  # Nor do we read errno after maths calls; with it, sqrt stays a library call and its loops (the
  # optimizer's) do not vectorise. Values are unaffected.
  $<$<COMPILE_LANGUAGE:CXX>:-fno-math-errno>
  $<$<COMPILE_LANGUAGE:CUDA>:--fmad=false>)
target_compile_definitions(wtasim_config INTERFACE WTASIM_VERSION="${PROJECT_VERSION}")
if(WTASIM_PYTHON)
  # the libraries also link into the Python extension, a shared object; a global function stays inlinable
  set(CMAKE_POSITION_INDEPENDENT_CODE ON)
  target_compile_options(wtasim_config INTERFACE
    $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CXX_COMPILER_ID:GNU>>:-fno-semantic-interposition>)
endif()
if(WTASIM_NATIVE)
  target_compile_options(wtasim_config INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-march=native>)
endif()

if(WTASIM_SANITIZE)
  target_compile_options(wtasim_config INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${WTASIM_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all>)
  target_link_options(wtasim_config INTERFACE -fsanitize=${WTASIM_SANITIZE})
endif()

if(WTASIM_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "WTASIM_FUZZ needs clang (libFuzzer): configure with the fuzz preset")
  endif()
  # Coverage instrumentation everywhere; only the fuzz targets link libFuzzer's main.
  target_compile_options(wtasim_config INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=fuzzer-no-link>)
endif()
