#!/usr/bin/env bash
# Installs every dependency from Debian's packages. Idempotent and quick when all is present.
set -euo pipefail
packages=(
  build-essential cmake pkg-config ccache
  libeigen3-dev libhdf5-dev libtbb-dev libboost-graph-dev doctest-dev nlohmann-json3-dev
  libcli11-dev zlib1g-dev libzip-dev
  dataset-fashion-mnist gnuplot-nox
  python3 python3-numpy python3-h5py python3-pynn python3-brian
  python3-dev pybind11-dev python3-pytest
  clang libfuzzer-14-dev libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
