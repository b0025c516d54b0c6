"""Seed inputs of the fuzz harnesses, made from the real files in ../shared (scripts/fuzz.sh).

    python3 fuzz/make_seeds.py PARSER SHARED OUT

Besides copies of the real files, each HDF5 parser gets a small file of the same layout (a real
model's config and weights, shrunk): libFuzzer mutates a 10 KB input a hundred times faster
than a 2 MB one, and the structure it learns is the same.
"""
import glob
import gzip
import json
import shutil
import sys

import h5py
import numpy as np

parser, shared, out = sys.argv[1:4]
mnist = shared + "/datasets/mnist/"


def images(n):
    raw = gzip.open(mnist + "t10k-images-idx3-ubyte.gz").read()
    header = bytearray(raw[:16])
    header[4:8] = n.to_bytes(4, "big")
    return bytes(header) + raw[16:16 + n * 784]


def labels():
    return gzip.open(mnist + "t10k-labels-idx1-ubyte.gz").read()


def copy(pattern):
    for f in glob.glob(pattern):
        shutil.copy(f, out)


def shrink(model, path, cut, seed, scale):
    """`model` (Keras 2 layout, Dense layers only) with the Dense layers named in `cut` cut to
    cut[name] units and every kernel redrawn from N(0, scale) (h5py)."""
    src = h5py.File(shared + "/models/" + model, "r")
    config = json.loads(src.attrs["model_config"])
    for layer in config["config"]["layers"]:
        if layer["config"]["name"] in cut:
            layer["config"]["units"] = cut[layer["config"]["name"]]
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as f:
        for k, v in src.attrs.items():
            f.attrs[k] = v
        f.attrs["model_config"] = json.dumps(config).encode()
        w = f.create_group("model_weights")
        for k, v in src["model_weights"].attrs.items():
            w.attrs[k] = v
        fan_in = 784
        for name in [n.decode() for n in src["model_weights"].attrs["layer_names"]]:
            g = w.create_group(name)
            for k, v in src["model_weights"][name].attrs.items():
                g.attrs[k] = v
            if name.startswith("dense"):
                units = cut.get(name, src["model_weights"][name][name]["bias:0"].shape[0])
                inner = g.create_group(name)
                inner.create_dataset("kernel:0", data=rng.normal(0, scale, (fan_in, units)).astype(np.float32))
                inner.create_dataset("bias:0", data=np.zeros(units, np.float32))
                fan_in = units


def tiny_keras2(path):
    """keras2_mlp_logits.h5 with its hidden Dense layers cut to 4 units."""
    config = json.loads(h5py.File(shared + "/models/keras/keras2_mlp_logits.h5", "r").attrs["model_config"])
    hidden = {l["config"]["name"]: 4 for l in config["config"]["layers"]
              if l["class_name"] == "Dense" and l["config"]["units"] != 10}
    shrink("keras/keras2_mlp_logits.h5", path, hidden, seed=1, scale=0.1)


def tiny_whetstone(path):
    """whetstone_dense_mnist.h5 with its first two Dense layers cut to 4 units (sharpened, so
    `grindstone convert` turns it into a small .snn.h5 seed)."""
    shrink("whetstone/whetstone_dense_mnist.h5", path, {"dense": 4, "dense_1": 4}, seed=2, scale=0.5)


def tiny_nir(path):
    """A conv → sum-pool → flatten → affine graph in the reference layout (NIR 1.0)."""
    s = h5py.string_dtype()
    rng = np.random.default_rng(2)
    nodes = {
        "input": {"type": "Input", "shape": np.array([1, 8, 8])},
        "conv": {"type": "Conv2d", "weight": rng.normal(0, .5, (2, 1, 3, 3)).astype(np.float32), "bias": np.zeros(2, np.float32),
                 "stride": np.array([1, 1]), "padding": np.array([1, 1]), "dilation": np.array([1, 1]), "groups": 1,
                 "input_shape": np.array([8, 8])},
        "spike1": {"type": "Threshold", "threshold": np.full((2, 8, 8), .3, np.float32)},
        "pool": {"type": "SumPool2d", "kernel_size": np.array([2, 2]), "stride": np.array([2, 2]), "padding": np.array([0, 0])},
        "spike2": {"type": "Threshold", "threshold": np.full((2, 4, 4), .5, np.float32)},
        "flat": {"type": "Flatten", "start_dim": 0, "end_dim": -1, "input_type": np.array([2, 4, 4])},
        "fc": {"type": "Affine", "weight": rng.normal(0, .5, (3, 32)).astype(np.float32), "bias": np.zeros(3, np.float32)},
        "spike3": {"type": "Threshold", "threshold": np.full(3, .4, np.float32)},
        "output": {"type": "Output", "shape": np.array([3])},
    }
    order = list(nodes)
    with h5py.File(path, "w") as f:
        f.create_dataset("version", data="1.0.0", dtype=s)
        root = f.create_group("node")
        root.create_dataset("type", data="NIRGraph", dtype=s)
        group = root.create_group("nodes")
        for name, fields in nodes.items():
            g = group.create_group(name)
            for k, v in fields.items():
                g.create_dataset(k, data=v, dtype=s) if isinstance(v, str) else g.create_dataset(k, data=np.asarray(v))
        root.create_dataset("edges", data=np.array(list(zip(order, order[1:])), dtype=object), dtype=s)


if parser == "idx":
    open(out + "/t10k-labels.idx", "wb").write(labels())
    open(out + "/t10k-images-2.idx", "wb").write(images(2))
elif parser == "idx_gz":
    shutil.copy(mnist + "t10k-labels-idx1-ubyte.gz", out)
    open(out + "/t10k-images-2.idx.gz", "wb").write(gzip.compress(images(2)))
elif parser == "npy":
    x = np.frombuffer(images(3)[16:], np.uint8).reshape(3, 28, 28)
    y = np.frombuffer(labels()[8:11], np.uint8)
    np.save(out + "/x.npy", x)
    np.save(out + "/xf.npy", x.reshape(3, 784).astype(np.float32) / 255)
    np.save(out + "/y.npy", y.astype(np.int64))
    np.savez(out + "/xy.npz", x=x, y=y)
elif parser == "keras_json":
    copy(shared + "/models/keras/*.json")
    for i, f in enumerate(sorted(glob.glob(shared + "/models/*/*.h5"))):
        with h5py.File(f, "r") as h:
            if "model_config" in h.attrs:
                c = h.attrs["model_config"]
                open("%s/model_config_%d.json" % (out, i), "wb").write(c if isinstance(c, bytes) else c.encode())
elif parser == "keras_h5":
    copy(shared + "/models/*/*.h5")
    tiny_keras2(out + "/tiny_keras2_mlp.h5")
    tiny_whetstone(out + "/tiny_whetstone.h5")
elif parser == "keras_zip":
    copy(shared + "/models/keras/*.keras")
elif parser == "nir":
    tiny_nir(out + "/tiny_conv.nir")
else:
    raise SystemExit("make_seeds: no seeds for " + parser)
