#!/usr/bin/env bash
# The main job, end to end on the real files in ../shared:
#   1. import + float reference accuracy of every shared Keras/Whetstone model (a table);
#   2. sharpen a small network from scratch (Whetstone method, in C++), and reload the shipped
#      fully sharpened networks (models/sharpened/) against their accuracy targets;
#   3. convert the Whetstone model to a spiking network and run it single-pass (float, Q4.8);
#   4. rate coding vs single-pass on the shared CNN (accuracy, spikes, synaptic events);
#   5. the same network on the SpiNNaker 1 model (tiles streaming on a 48-chip board) and on
#      the SpiNNaker 2 model (dense layers on MAC arrays): cores/PEs, chips, packets, throughput,
#      latency, energy; and the shipped 99 % conv network (bit-plane input) on SpiNNaker 2.
# Outputs go to out/demo/. DEMO_LIMIT (default 10000) sets the test images per run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
G=build/grindstone
S=../shared
M=$S/models
OUT=out/demo
LIMIT=${DEMO_LIMIT:-10000}
mkdir -p "$OUT"
if [ ! -d "$S/models" ]; then
  echo "demo: ../shared (models and MNIST) is missing beside the project" >&2
  exit 2
fi
py() { python3 -c "$@"; }
section() { printf '\n== %s\n' "$*"; }

section "1. Keras import and float reference accuracy (MNIST test set, $LIMIT images)"
printf '%-42s %-20s %9s %10s %12s\n' model format params accuracy samples/s
for m in keras/keras2_mlp_logits.h5 keras/keras2_lenet5_channels_first.h5 keras/keras3_cnn_legacy.h5 \
         keras/keras3_mlp.keras keras/keras2_cnn_weights_only.h5 keras/keras3_mlp_batchnorm.h5 \
         whetstone/whetstone_dense_mnist.h5; do
  arch=()
  [ -f "$M/${m%.h5}.json" ] && arch=(--architecture "$M/${m%.h5}.json")
  $G inspect "$M/$m" "${arch[@]}" --json > "$OUT/inspect.json"
  $G eval "$M/$m" "${arch[@]}" --limit "$LIMIT" --json > "$OUT/eval.json"
  py "import json; i=json.load(open('$OUT/inspect.json')); e=json.load(open('$OUT/eval.json'));
print('%-42s %-20s %9d %10.4f %12.0f' % ('$m', i['format'], i['params_total'], e['accuracy'], e['samples_per_second']))"
done

section "2. Sharpening a dense:128 network from scratch (20,000 training images, Whetstone's recipe)"
$G sharpen --dataset mnist --arch dense:128 --key-width 100 --input binary --limit 20000 --test-limit 2000 \
  --optimizer adadelta --lr 4.0 --schedule simple --start-epoch 3 --steps 2 --epochs 20 --seed 1 \
  --out "$OUT/sharpened_dense128.h5"

section "2b. The shipped fully sharpened networks (models/sharpened/README.md) against issue 3's targets"
printf '%-44s %-7s %9s %8s\n' file input accuracy target
for row in mnist_dense100_100_binary.h5:binary:0.970 mnist_dense256_64_real.h5:real:0.975 \
           mnist_conv32x5_64x5_500_real.h5:real:0.990 mnist_keras3_mlp_batchnorm_finetuned.h5:real:0.968; do
  IFS=: read -r f input target <<< "$row"
  $G eval "models/sharpened/$f" --input "$input" --limit "$LIMIT" --json > "$OUT/eval.json"
  py "import json; e=json.load(open('$OUT/eval.json')); print('%-44s %-7s %9.4f %8s' % ('$f', '$input', e['accuracy'], '$target'))"
done
$G convert models/sharpened/mnist_conv32x5_64x5_500_real.h5 -o "$OUT/conv_bitplanes_q48.snn.h5" --input bitplanes --weights Q4.8
$G run "$OUT/conv_bitplanes_q48.snn.h5" --engine single-pass --limit "$LIMIT"

section "3. Whetstone model → spiking network → single-pass engine"
W=$M/whetstone/whetstone_dense_mnist.h5
$G convert "$W" -o "$OUT/whetstone_bitplanes.snn.h5" --input bitplanes --verbose
$G run "$OUT/whetstone_bitplanes.snn.h5" --engine single-pass --limit "$LIMIT"
$G convert "$W" -o "$OUT/whetstone_q48.snn.h5" --input threshold --weights Q4.8
$G run "$OUT/whetstone_q48.snn.h5" --engine single-pass --limit "$LIMIT"
$G convert tests/data/sharpened_mnist_dense100_100_binary.h5 -o "$OUT/dense100_q48.snn.h5" --weights Q4.8
$G run "$OUT/dense100_q48.snn.h5" --engine single-pass --verbose   # dense-tile path, all 10,000 images

section "4. Rate coding (SNN Toolbox style) vs single-pass on a sharpened CNN of the same shape"
$G compare "$M/keras/keras3_cnn_legacy.h5" --sharpened tests/data/sharpened_mnist_cnn32x3_64x3_real.h5 \
  --limit "$(( LIMIT < 1000 ? LIMIT : 1000 ))" \
  --timesteps 8,16,32,64,128 --plot "$OUT/compare.png"

section "5a. SpiNNaker 1: the Whetstone network (Q4.8), 40 tiles on one SpiNN-5 board, auto time-scale factor"
$G run "$OUT/whetstone_q48.snn.h5" --engine spinnaker1 --tiles 40 --between-sample-ms 2 \
  --time-scale-factor auto --limit "$LIMIT" --plots "$OUT/spinnaker1_plots"

section "5b. SpiNNaker 2: the same network, dense layers on MAC arrays"
$G run "$OUT/whetstone_q48.snn.h5" --engine spinnaker2 --limit "$LIMIT"

section "5c. SpiNNaker 2: the shipped 99 % conv network, bit-plane input (pixels as uint8 MAC operands), ANN mode"
$G run "$OUT/conv_bitplanes_q48.snn.h5" --engine spinnaker2 --s2-mode ann --limit "$LIMIT"

printf '\ndemo: outputs in %s\n' "$OUT"
