#!/usr/bin/env bash
# Configures and builds Grindstone. BUILD_DIR (default build) and SANITIZE=1 (ASan + UBSan,
# default build dir build-asan) are read from the environment; extra args go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SANITIZE:-0}" = 1 ]; then
  BUILD_DIR=${BUILD_DIR:-build-asan}
  extra=(-DGRINDSTONE_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRINDSTONE_BENCH=OFF)
else
  BUILD_DIR=${BUILD_DIR:-build}
  extra=(-DCMAKE_BUILD_TYPE=Release)
fi
cmake -S . -B "$BUILD_DIR" "${extra[@]}" "$@" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
