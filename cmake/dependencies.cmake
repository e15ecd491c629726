# Every external dependency, found in one place. A failure names the Debian package that provides it;
# tools/setup.sh installs all of them.
macro(wtasim_require name debian_package)
  find_package(${name} ${ARGN} QUIET)
  if(NOT ${name}_FOUND)
    message(FATAL_ERROR
      "wtasim: ${name} was not found. Install the Debian package '${debian_package}' "
      "(or run: bash tools/setup.sh, which installs every dependency).")
  endif()
endmacro()

find_package(Threads REQUIRED)
wtasim_require(TBB libtbb-dev CONFIG)
wtasim_require(nlohmann_json nlohmann-json3-dev CONFIG)
if(WTASIM_TESTS)
  wtasim_require(doctest doctest-dev CONFIG)
endif()
wtasim_require(CLI11 libcli11-dev CONFIG)
wtasim_require(Boost libboost-dev 1.74 CONFIG)  # Asio and Beast, header-only (wtasim serve)
if(WTASIM_PYTHON)
  find_package(Python3 COMPONENTS Interpreter Development.Module QUIET)
  if(NOT Python3_FOUND)
    message(FATAL_ERROR "wtasim: the Python module needs Python's headers. Install the Debian package 'python3-dev' "
                        "(or run: bash tools/setup.sh), or configure with -DWTASIM_PYTHON=OFF.")
  endif()
  wtasim_require(pybind11 pybind11-dev CONFIG)
endif()
