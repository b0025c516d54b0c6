#!/usr/bin/python3
"""Runs a converted dense `.snn.h5` network (instant-decay single-pass semantics) in Brian2, with
the MNIST test images streamed through one copy of the network every --between-ms ms, as the
SpiNNaker 1 executor streams them through each tile. Prints one JSON object (accuracy, wall time
of the simulation, build time).

  /usr/bin/python3 bench/brian2_dense.py NET.snn.h5 [--limit N] [--between-ms 2] [--data-dir D]

Brian2 schedule per step: thresholds, then synapses (spikes whose delay ends now add to v), then
our zeroing of v right after the thresholds of the next step. So input added at step s is seen
by the threshold of step s+1 only — instant decay — and a synaptic delay of d ticks is a Brian2
delay of (d − 1) steps. Only dense / one-to-one projections and threshold/bit-plane inputs.
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import h5py
import numpy as np


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find_file(folder, name):
    for candidate in (name, name + ".gz"):
        p = os.path.join(folder, candidate)
        if os.path.exists(p):
            return p
    raise SystemExit(f"brian2_dense: {name} not found in {folder}")


def attr(obj, name, default=None):
    v = obj.attrs.get(name, default)
    return v.decode() if isinstance(v, bytes) else v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("network")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--between-ms", type=float, default=2.0)
    ap.add_argument("--data-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "datasets", "mnist"))
    args = ap.parse_args()

    import brian2 as b2
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = 1 * b2.ms

    images = read_idx(find_file(args.data_dir, "t10k-images-idx3-ubyte")).reshape(-1, 784)
    labels = read_idx(find_file(args.data_dir, "t10k-labels-idx1-ubyte"))
    if args.limit:
        images, labels = images[:args.limit], labels[:args.limit]
    n = len(labels)
    period = int(round(args.between_ms))

    t_build = time.perf_counter()
    f = h5py.File(args.network, "r")
    pops = [f["populations"][k] for k in sorted(f["populations"].keys())]
    groups, ticks = [], []
    for p in pops:
        size = int(np.prod(p["shape"][()]))
        tick = int(attr(p, "tick"))
        if int(attr(p, "temporal_groups", 1)) != 1:
            raise SystemExit("brian2_dense: temporal groups are not supported")
        ticks.append(tick)
        role = attr(p, "role")
        if "threshold" not in p:  # spike source: input pixels (or bit planes) or the bias start source
            bit = int(attr(p, "input_bit", -1))
            idx, times = [], []
            for s in range(n):
                if role == "bias":
                    fired = np.array([0])
                elif bit >= 0:
                    fired = np.nonzero((images[s] >> bit) & 1)[0]
                else:
                    fired = np.nonzero(images[s] >= 128)[0]
                idx.append(fired)
                times.append(np.full(len(fired), s * period + tick))
            idx = np.concatenate(idx) if idx else np.array([], dtype=int)
            times = np.concatenate(times) if times else np.array([])
            g = b2.SpikeGeneratorGroup(size, idx, times * b2.ms)
        else:
            g = b2.NeuronGroup(size, "v : 1\ntheta : 1", threshold="v >= theta")
            g.theta = p["threshold"][()].astype(np.float64)
            g.run_regularly("v = 0", when="after_thresholds")
        groups.append(g)

    synapses = []
    for k in sorted(f["projections"].keys()):
        pr = f["projections"][k]
        pre, post = int(attr(pr, "pre")), int(attr(pr, "post"))
        kind = attr(pr, "kind")
        scale = float(attr(pr, "weight_scale", 1.0))
        if kind == "dense":
            dense_w = pr["weights"][()].astype(np.float64)
            i, j = np.nonzero(dense_w)
            values = dense_w[i, j] * scale
        elif kind == "one_to_one":
            size = groups[post].N
            i = j = np.arange(size)
            values = np.full(size, float(attr(pr, "weight")) * scale)
        else:
            raise SystemExit(f"brian2_dense: projection kind {kind} is not supported")
        delay = ticks[post] - ticks[pre]
        s = b2.Synapses(groups[pre], groups[post], "w : 1", on_pre="v_post += w")
        s.connect(i=i, j=j)
        s.w = values
        s.delay = (delay - 1) * b2.ms
        synapses.append(s)

    out_index = int(attr(f, "output"))
    monitor = b2.SpikeMonitor(groups[out_index])
    net = b2.Network(groups + synapses + [monitor])
    duration = (n - 1) * period + max(ticks) + 2
    build_seconds = time.perf_counter() - t_build

    t_run = time.perf_counter()
    net.run(duration * b2.ms)
    run_seconds = time.perf_counter() - t_run

    # Decode: sample of an output spike at step t is (t − output tick) / period.
    width = groups[out_index].N
    bits = np.zeros((n, width), dtype=np.int8)
    steps = np.round(np.asarray(monitor.t / b2.ms)).astype(int)
    for step, neuron in zip(steps, np.asarray(monitor.i)):
        rel = step - ticks[out_index]
        if rel >= 0 and rel % period == 0 and rel // period < n:
            bits[rel // period, neuron] = 1
    dec = f["decode"]
    if attr(dec, "kind") == "n_hot_key":
        key = (dec["key"][()] >= 0.5).astype(np.int32) * 2 - 1
        scores = (bits.astype(np.int32) * 2 - 1) @ key.T
        predicted = np.argmax(scores, axis=1)
    else:
        predicted = np.argmax(bits[:, :int(attr(dec, "classes"))], axis=1)
    accuracy = float(np.mean(predicted == labels))
    print(json.dumps({"engine": "brian2 " + b2.__version__ + " (numpy)", "samples": n, "accuracy": accuracy,
                      "wall_seconds": run_seconds, "build_seconds": build_seconds,
                      "samples_per_second": n / run_seconds, "output_spikes": int(len(steps))}))


if __name__ == "__main__":
    sys.exit(main())
