#!/usr/bin/env bash
# ThreadSanitizer run of the multithreaded code (issue 11 item 5): the runtime's unit tests and
# the end-to-end tests that run the engines and the SpiNNaker 1 executor with several threads.
# Builds build-tsan/ (g++ -fsanitize=thread); CI runs it (.ci/run). libtbb is not instrumented, so
# under TSan every parallel loop runs on std::thread (common/parallel.hpp), whose fork and join
# TSan sees; a race TSan reports is then one in our loop bodies (docs/reliability.md).
set -euo pipefail
cd "$(dirname "$0")/.."
B=build-tsan
cmake -S . -B $B -DGRINDSTONE_TSAN=ON -DGRINDSTONE_BENCH=OFF -DGRINDSTONE_PYTHON=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build $B -j"$(nproc)" --target grindstone_snn_runtime_tests grindstone_e2e_tests grindstone >/dev/null
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
export GRINDSTONE_TEST_QUICK=1
$B/snn_runtime/grindstone_snn_runtime_tests
$B/tests/grindstone_e2e_tests -tc="spinnaker1*,engines*,*thread*,*determinis*,rate*,*spinnaker2*,sharpen*"
echo "tsan: no data race reported"
