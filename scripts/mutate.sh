#!/usr/bin/env bash
# The mutation test at scale: N damaged copies of every shared model, a converted network and the
# MNIST test images (10 kinds, so 10·N files), each run through the CLI. Prints the count of each
# exit code; fails if any run crashed, hung or left more than one line on stderr.
#   scripts/mutate.sh [N]    (default 100: 1,000 files)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100}
bash scripts/build.sh >/dev/null
GRINDSTONE_MUTATIONS=$N build/tests/grindstone_e2e_tests -tc="mutation*" -s 2>&1 | grep -E "MESSAGE|ERROR|logged|Status|test cases"
