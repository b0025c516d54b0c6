#!/usr/bin/env bash
# ThreadSanitizer run of the multithreaded code (issue 11 item 5): the runtime's unit tests and
# the end-to-end tests that run the engines and the SpiNNaker 1 executor with several threads.
# Builds build-tsan/ (g++ -fsanitize=thread). Not part of CI: see docs/reliability.md (why, and
# the recorded run). TBB's own sources are not instrumented; TSAN_OPTIONS below keeps TSan's
# reports to the code it can see.
set -euo pipefail
cd "$(dirname "$0")/.."
B=build-tsan
cmake -S . -B $B -DGRINDSTONE_TSAN=ON -DGRINDSTONE_BENCH=OFF -DGRINDSTONE_PYTHON=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build $B -j"$(nproc)" --target grindstone_snn_runtime_tests grindstone_e2e_tests grindstone >/dev/null
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
export GRINDSTONE_TEST_QUICK=1
$B/snn_runtime/grindstone_snn_runtime_tests
$B/tests/grindstone_e2e_tests -tc="spinnaker1*,engines*,*thread*,*determinis*"
echo "tsan: no data race reported"
