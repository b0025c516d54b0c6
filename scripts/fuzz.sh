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
# this harness reads in-process on purpose. Each finding is replayed and sorted by its first
# stack frame outside the sanitizer and libFuzzer: inside libhdf5 (contained for users), does not
# reproduce alone (fork-mode memory build-up), or ours. Exit code 1 when a finding is ours.
# The HDF5 parsers fuzz inputs of at most 64 KB (-max_len): the real models are 0.4-3 MB and
# executions/s fall with size; the mutation test in the suite covers the full-size files.
set -euo pipefail
cd "$(dirname "$0")/.."
parsers=(idx idx_gz npy keras_json keras_h5 keras_zip snn_h5 nir)
what=${1:?usage: scripts/fuzz.sh PARSER|all|regress [SECONDS]}
seconds=${2:-60}
SHARED=${GRINDSTONE_SHARED:-../shared}
[ -d "$SHARED/models" ] || { echo "fuzz: $SHARED/models not found (set GRINDSTONE_SHARED)" >&2; exit 2; }
B=build-fuzz
# The harnesses hand each input to the readers as a file: keep those in memory.
[ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm

CC=clang CXX=clang++ cmake -S . -B $B -DGRINDSTONE_FUZZ=ON -DGRINDSTONE_TESTS=OFF -DGRINDSTONE_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build $B -j"$(nproc)" --target fuzz_all grindstone >/dev/null

seed() {  # seed PARSER → prints the seed folder
  local p=$1 d=$B/seeds/$1
  if [ ! -d "$d" ]; then
    mkdir -p "$d"
    case $p in
      snn_h5) seed keras_h5 >/dev/null
              $B/grindstone convert "$B/seeds/keras_h5/tiny_whetstone.h5" -o "$d/tiny.snn.h5" >/dev/null
              $B/grindstone convert "$SHARED/models/whetstone/whetstone_dense_mnist.h5" -o "$d/whetstone.snn.h5" >/dev/null
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

triage() {  # triage PARSER FILE → libhdf5 | gone | the first frame of ours
  local out frame
  out=$(ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 timeout -s KILL 40 $B/fuzz/fuzz_$1 -timeout=10 \
          -rss_limit_mb=4096 -malloc_limit_mb=2048 "$2" 2>&1 || true)
  frame=$(grep -E '^ *#[0-9]+ ' <<<"$out" \
          | grep -vE '__sanitizer|__asan|__ubsan|__interceptor|fuzzer::|LLVMFuzzer|libFuzzer| in (malloc|calloc|realloc|operator new)|/libc\.so|/libstdc\+\+' \
          | head -1 || true)
  if grep -qE 'ERROR: libFuzzer: deadly signal|ERROR: AddressSanitizer|runtime error|ERROR: libFuzzer: (timeout|out-of-memory)|ALARM' <<<"$out"; then
    if grep -qE 'libhdf5|H5[A-Z]' <<<"$frame"; then echo libhdf5; else echo "${frame:-no stack}" | sed -E 's/^ *#[0-9]+ 0x[0-9a-f]+ in //; s/ *\(BuildId.*//'; fi
  else
    echo gone
  fi
}

run() {  # run PARSER SECONDS
  local p=$1 s=$2
  local corpus=$B/corpus/$p findings=$B/findings/$p regress=tests/data/fuzz/$p
  mkdir -p "$corpus" "$findings" "$regress"
  local seeds; seeds=$(seed "$p")
  # A hang costs the whole -timeout: libhdf5's loops on damaged metadata are endless, and a read of
  # at most 64 KB takes milliseconds, so the HDF5 parsers count a hang after 2 s.
  local mode=() limit=10
  case $p in
    keras_h5|snn_h5|nir) mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -max_len=65536); limit=2 ;;
    keras_zip) mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1) ;;
  esac
  echo "fuzz $p: ${s}s, seeds $seeds"
  local log=$B/findings/$p.log
  ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    $B/fuzz/fuzz_$p -max_total_time="$s" -timeout=$limit -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix="$findings/" "${mode[@]}" "$corpus" "$seeds" "$regress" >"$log" 2>&1 || true
  local execs
  execs=$(grep -ho 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
  [ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$log" | tr -d '#' | sort -n | tail -1 || true)
  # Sort the findings by where they stop (see the header).
  local ours=0 theirs=0 gone=0 f where
  for f in "$findings"/crash-* "$findings"/timeout-* "$findings"/oom-* "$findings"/leak-*; do
    [ -f "$f" ] || continue
    where=$(triage "$p" "$f")
    case $where in
      libhdf5) theirs=$((theirs + 1)) ;;
      gone) gone=$((gone + 1)) ;;
      *) ours=$((ours + 1)); echo "fuzz $p: finding in our code: $f ($where)" ;;
    esac
  done
  echo "fuzz $p: executions ${execs:-?}, findings: ${ours} in our code, ${theirs} inside libhdf5, ${gone} not reproducible alone (log $log)"
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
