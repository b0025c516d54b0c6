#!/usr/bin/env bash
# Precision table (like the seed's Table 1): MNIST test accuracy of sharpened networks converted
# at float and at fixed-point formats, single-pass engine. Usage: bench/precision_table.sh [MODEL…]
# (default: the sharpened dense networks in tests/data). Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
G=${G:-build/grindstone}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(tests/data/sharpened_mnist_dense100_100_binary.h5 tests/data/sharpened_mnist_dense256_64_real.h5)
formats=(float Q4.16 Q4.8 Q4.7 Q4.6 Q4.5)
printf '| model | input |'; for f in "${formats[@]}"; do printf ' %s |' "$f"; done; printf '\n|---|---|'
for f in "${formats[@]}"; do printf -- '---|'; done; printf '\n'
for m in "${models[@]}"; do
  for input in threshold bitplanes; do
    printf '| %s | %s |' "$(basename "$m")" "$input"
    for f in "${formats[@]}"; do
      "$G" convert "$m" -o "$tmp/n.snn.h5" --weights "$f" --input "$input" --json > "$tmp/c.json"
      acc=$("$G" run "$tmp/n.snn.h5" --engine single-pass --json | python3 -c "import json,sys; print('%.4f' % json.load(sys.stdin)['accuracy'])")
      clipped=$(python3 -c "import json; print(json.load(open('$tmp/c.json')).get('clipped_weights', 0))")
      if [ "$clipped" != 0 ]; then printf ' %s (%s clipped) |' "$acc" "$clipped"; else printf ' %s |' "$acc"; fi
    done
    printf '\n'
  done
done
