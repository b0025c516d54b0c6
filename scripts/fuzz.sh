#!/usr/bin/env bash
# libFuzzer harnesses of every parser of untrusted files (fuzz/, issue 11 item 2).
#
#   scripts/fuzz.sh PARSER SECONDS   fuzz one parser for SECONDS (PARSER: idx idx_gz npy
#                                    keras_json keras_h5 keras_zip snn_h5 nir)
#   scripts/fuzz.sh all SECONDS      every parser, SECONDS each
#   scripts/fuzz.sh regress          replay tests/data/fuzz/<parser>/* through each harness
#
# Builds build-fuzz/ with clang (ASan + UBSan + libFuzzer). Seeds are the real files in
# ../shared (and a network converted from one), the corpus grows in build-fuzz/corpus/<parser>,
# findings land in build-fuzz/findings/<parser>/. The HDF5 parsers (keras_h5, snn_h5, nir) run
# in libFuzzer's fork mode, which keeps going past a crash: libhdf5 1.10 crashes on some hostile
# metadata, which users never see (common/contained reads every HDF5 file in a child first) and
# this harness reads in-process on purpose; scripts/fuzz_triage.sh sorts the findings into
# libhdf5's and ours. Exit code 1 when a finding is in our code (a non-HDF5 parser crashed).
set -euo pipefail
cd "$(dirname "$0")/.."
parsers=(idx idx_gz npy keras_json keras_h5 keras_zip snn_h5 nir)
what=${1:?usage: scripts/fuzz.sh PARSER|all|regress [SECONDS]}
seconds=${2:-60}
SHARED=${GRINDSTONE_SHARED:-../shared}
[ -d "$SHARED/models" ] || { echo "fuzz: $SHARED/models not found (set GRINDSTONE_SHARED)" >&2; exit 2; }
B=build-fuzz

CC=clang CXX=clang++ cmake -S . -B $B -DGRINDSTONE_FUZZ=ON -DGRINDSTONE_TESTS=OFF -DGRINDSTONE_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build $B -j"$(nproc)" --target fuzz_all grindstone >/dev/null

seed() {  # seed PARSER → prints the seed folder
  local p=$1 d=$B/seeds/$1
  if [ ! -d "$d" ]; then
    mkdir -p "$d"
    case $p in
      snn_h5) $B/grindstone convert "$SHARED/models/whetstone/whetstone_dense_mnist.h5" -o "$d/whetstone.snn.h5" >/dev/null
              $B/grindstone convert "$SHARED/models/whetstone/whetstone_dense_mnist.h5" -o "$d/whetstone_q48.snn.h5" \
                --weights Q4.8 --input bitplanes >/dev/null ;;
      nir)    seed snn_h5 >/dev/null
              $B/grindstone export "$B/seeds/snn_h5/whetstone.snn.h5" --nir "$d/whetstone.nir" >/dev/null
              /usr/bin/python3 fuzz/make_seeds.py nir "$SHARED" "$d" ;;
      *)      /usr/bin/python3 fuzz/make_seeds.py "$p" "$SHARED" "$d" ;;  # Debian's, with numpy + h5py
    esac
  fi
  echo "$d"
}

run() {  # run PARSER SECONDS
  local p=$1 s=$2
  local corpus=$B/corpus/$p findings=$B/findings/$p regress=tests/data/fuzz/$p
  mkdir -p "$corpus" "$findings" "$regress"
  local seeds; seeds=$(seed "$p")
  local mode=()
  case $p in keras_h5|snn_h5|nir|keras_zip) mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1) ;; esac
  echo "fuzz $p: ${s}s, seeds $seeds"
  local log=$B/findings/$p.log
  ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    $B/fuzz/fuzz_$p -max_total_time="$s" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix="$findings/" "${mode[@]}" "$corpus" "$seeds" "$regress" >"$log" 2>&1 || true
  local execs
  execs=$(grep -ho 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
  [ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$log" | tr -d '#' | sort -n | tail -1 || true)
  # Sort the findings: a crash whose top frames are inside libhdf5 is libhdf5's (contained for
  # users); anything else is ours and fails the run.
  local ours=0 theirs=0 f top
  for f in "$findings"/crash-* "$findings"/timeout-* "$findings"/oom-* "$findings"/leak-*; do
    [ -f "$f" ] || continue
    top=$(ASAN_OPTIONS=detect_leaks=0 timeout -s KILL 30 $B/fuzz/fuzz_$p -timeout=10 "$f" 2>&1 | grep -E '^ *#[0-3] ' | head -4 || true)
    if grep -qE 'libhdf5|H5[A-Z_]' <<<"$top"; then theirs=$((theirs + 1)); else ours=$((ours + 1)); echo "fuzz $p: finding in our code: $f"; fi
  done
  echo "fuzz $p: executions ${execs:-?}, findings: ${ours} in our code, ${theirs} inside libhdf5 (log $log)"
  [ "$ours" -eq 0 ]
}

regress() {
  local bad=0
  for p in "${parsers[@]}"; do
    [ -d tests/data/fuzz/$p ] || continue
    for f in tests/data/fuzz/$p/*; do
      [ -f "$f" ] || continue
      if ! ASAN_OPTIONS=detect_leaks=0 $B/fuzz/fuzz_$p "$f" >/dev/null 2>&1; then echo "regress: $p $f fails"; bad=1; fi
    done
  done
  return $bad
}

case $what in
  all) status=0
       for p in "${parsers[@]}"; do run "$p" "$seconds" || status=1; done
       exit $status ;;
  regress) regress ;;
  *) [[ " ${parsers[*]} " == *" $what "* ]] || { echo "fuzz: unknown parser '$what' (${parsers[*]})" >&2; exit 2; }
     run "$what" "$seconds" ;;
esac
