#!/usr/bin/env bash
# Installs every Debian package wtasim needs to build, test and run. Idempotent: packages already
# present are left alone, so a second run only costs the apt look-up.
# Usage: sudo-less as root (as on the project machines): bash tools/setup.sh
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git clang-format
  # libraries the code links against
  libboost-dev libtbb-dev libhdf5-dev hdf5-tools nlohmann-json3-dev doctest-dev
  libsentencepiece-dev sentencepiece libcli11-dev
  # the Python module (python/, docs/python.md) and its tests
  python3-dev pybind11-dev python3-pytest
  # the King James Bible (docs/model.md §9); npm brings the Brown and SpamAssassin corpora (tools/fetch-corpora.sh)
  bible-kjv
  # BLAS: the pthread OpenBLAS must be the selected libblas.so.3 before torch comes in,
  # otherwise torch's matrix products (our test oracle) run on the reference BLAS
  libopenblas0-pthread libopenblas-pthread-dev
  # test oracles and tools (never runtime dependencies of the C++ code)
  python3 python3-numpy python3-h5py python3-torch
  # the dashboard's browser test (tests/serve/check_dashboard.py) and the serving benchmark's client (ab)
  chromium apache2-utils
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  # the BLAS goes first so that the alternatives system selects it for libblas.so.3
  $SUDO apt-get install -y -qq --no-install-recommends libopenblas0-pthread >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all ${#packages[@]} packages present"
fi

# npm (for the corpora) is on the project machines; on a bare Debian it comes from Debian's npm package.
if ! command -v npm >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
bash "$(dirname "$0")/fetch-corpora.sh"
