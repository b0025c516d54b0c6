"""NIR conformance of our exports (issue 11 item 4): every node of an exported graph has exactly
the datasets the NIR reference writer would write for that node type — names, dtype kinds,
ranks — as described in tests/data/nir_reference_layout.json; every edge passes the reference
reader's type check (nir.read(type_check=True)), except where the reference itself leaves the
type undefined (SumPool2d); and the graph, evaluated once with NIR's semantics (one step:
Threshold fires iff x > θ), gives the classes of the single-pass engine.

The `nir` package is not a Debian package, so the reference reader's rules are restated here
from its source (nir/serialization.py: hdf2dict + dict2NIRNode; nir/ir/graph.py: check_types).
"""
import json
import os
from pathlib import Path

import h5py
import numpy as np
import pytest

import grindstone as gs

SOURCE = Path(os.environ.get("GRINDSTONE_SOURCE", Path(__file__).resolve().parents[2]))
SHARED = Path(os.environ.get("GRINDSTONE_SHARED", SOURCE.parent / "shared"))
LAYOUT = json.loads((SOURCE / "tests" / "data" / "nir_reference_layout.json").read_text())
WHETSTONE = SHARED / "models" / "whetstone" / "whetstone_dense_mnist.h5"
LENET = SOURCE / "models" / "sharpened" / "mnist_conv32x5_64x5_500_real.h5"  # Whetstone LeNet shape
CONV = SOURCE / "tests" / "data" / "sharpened_mnist_cnn32x3_64x3_real.h5"
MNIST = SHARED / "datasets" / "mnist"

if not WHETSTONE.exists():
    raise RuntimeError(f"../shared is missing: {WHETSTONE} not found (the NIR conformance tests need it)")


def hdf2dict(group):
    """The reference reader's first step: groups become dicts, datasets their values."""
    out = {}
    for key, item in group.items():
        if isinstance(item, h5py.Group):
            out[key] = hdf2dict(item)
        else:
            value = item[()]
            out[key] = value.decode("utf8") if isinstance(value, bytes) else value
    return out


def check_fields(name, group):
    """The node's datasets are exactly the reference's fields for its type, kind for kind."""
    kind = group["type"][()].decode()
    assert kind in LAYOUT["nodes"], f"node {name}: type {kind} is not in the reference layout"
    spec = LAYOUT["nodes"][kind]
    expected, optional = spec["fields"], spec.get("optional", {})
    present = set(group.keys())
    assert set(expected) <= present, f"node {name} ({kind}): missing {set(expected) - present}"
    assert present <= set(expected) | set(optional), f"node {name} ({kind}): extra {present - set(expected) - set(optional)}"
    for field, rule in {**expected, **optional}.items():
        if field not in group:
            continue
        item = group[field]
        if rule == "group":
            assert isinstance(item, h5py.Group), f"node {name} ({kind}): {field} must be a group"
            continue
        assert isinstance(item, h5py.Dataset), f"node {name} ({kind}): {field} must be a dataset, not a group"
        if rule["kind"] == "S":
            assert h5py.check_string_dtype(item.dtype) is not None, f"node {name}: {field} is not a string"
        else:
            assert item.dtype.kind == rule["kind"], f"node {name} ({kind}): {field} dtype {item.dtype}"
        if rule["rank"] is not None:
            assert item.ndim == rule["rank"], f"node {name} ({kind}): {field} rank {item.ndim}"
        if "length" in rule:
            assert item.shape[0] == rule["length"], f"node {name} ({kind}): {field} shape {item.shape}"
    return kind


def conv_out(size, padding, dilation, kernel, stride):
    return [int(np.floor((s + 2 * p - d * (k - 1) - 1) / st + 1))
            for s, p, d, k, st in zip(size, padding, dilation, kernel, stride)]


def node_types(kind, n, pre_out):
    """(input type, output type) by the reference's rules; pooling's come from type inference."""
    if kind in ("Input", "Output"):
        return list(n["shape"]), list(n["shape"])
    if kind in ("Affine", "Linear"):
        return [n["weight"].shape[1]], [n["weight"].shape[0]]
    if kind == "Conv2d":
        w = n["weight"]
        out = conv_out(n["input_shape"], n["padding"], n["dilation"], w.shape[2:], n["stride"])
        return [w.shape[1], *n["input_shape"]], [w.shape[0], *out]
    if kind == "Flatten":
        shape = list(n["input_type"])
        assert n["start_dim"] == 0 and n["end_dim"] == -1
        return shape, [int(np.prod(shape))]
    if kind == "Threshold":
        return list(n["threshold"].shape), list(n["threshold"].shape)
    if kind == "SumPool2d":  # undefined in the reference: NIRGraph.infer_types' rule
        out = conv_out(pre_out[1:], n["padding"], [1, 1], n["kernel_size"], n["stride"])
        return None, [pre_out[0], *out]
    raise AssertionError(kind)


def read_like_the_reference(path):
    """Checks layout and types; returns (nodes dict, edges, metadata) as the reference reads them."""
    with h5py.File(path, "r") as f:
        assert set(f.keys()) == set(LAYOUT["root"]), f"root: {set(f.keys())}"
        assert f["version"][()].decode().startswith("1."), "version"
        root = f["node"]
        assert root["type"][()] == b"NIRGraph"
        check_fields("node", root)
        kinds = {name: check_fields(name, g) for name, g in root["nodes"].items()}
        data = hdf2dict(root)
    edges = [(a.decode(), b.decode()) for a, b in data["edges"]]
    nodes = data["nodes"]
    for name in nodes:
        nodes[name]["type"] = kinds[name]
    # check_types over the edges, in order (ours are written pre before post).
    out_type = {}
    for a, b in edges:
        pre_kind, post_kind = kinds[a], kinds[b]
        if a not in out_type:
            out_type[a] = node_types(pre_kind, nodes[a], None)[1]
        post_in, post_out = node_types(post_kind, nodes[b], out_type[a])
        if post_in is not None:
            assert [int(v) for v in post_in] == [int(v) for v in out_type[a]], f"type mismatch {a} -> {b}"
        out_type[b] = post_out
    return nodes, edges, data.get("metadata", {})


def evaluate(nodes, edges, metadata, images):
    """One step of the graph with NIR's semantics, in float64; classes by the metadata's decode."""
    succ = dict(edges)
    key = metadata.get("key")
    classes = []
    for image in images:
        x = image.astype(np.float64) / 255.0
        x = (x >= 0.5).astype(np.float64) if metadata["input_encoding"].startswith("binary") else x
        node, value = "input", x.reshape(nodes["input"]["shape"])
        while node != "output":
            node = succ[node]
            n = nodes[node]
            if n["type"] == "Affine":
                value = n["weight"].astype(np.float64) @ value.ravel() + n["bias"]
            elif n["type"] == "Conv2d":
                w, (sh, sw), (ph, pw) = n["weight"].astype(np.float64), n["stride"], n["padding"]
                xp = np.pad(value, ((0, 0), (ph, ph), (pw, pw)))
                kh, kw = w.shape[2:]
                oh, ow = conv_out(value.shape[1:], n["padding"], n["dilation"], (kh, kw), n["stride"])
                out = np.empty((w.shape[0], oh, ow))
                for i in range(oh):
                    for j in range(ow):
                        patch = xp[:, i * sh:i * sh + kh, j * sw:j * sw + kw]
                        out[:, i, j] = np.tensordot(w, patch, axes=([1, 2, 3], [0, 1, 2]))
                value = out + n["bias"][:, None, None]
            elif n["type"] == "SumPool2d":
                (kh, kw), (sh, sw), (ph, pw) = n["kernel_size"], n["stride"], n["padding"]
                xp = np.pad(value, ((0, 0), (ph, ph), (pw, pw)))
                oh, ow = conv_out(value.shape[1:], n["padding"], (1, 1), (kh, kw), n["stride"])
                value = np.array([[[xp[c, i * sh:i * sh + kh, j * sw:j * sw + kw].sum() for j in range(ow)]
                                   for i in range(oh)] for c in range(value.shape[0])])
            elif n["type"] == "Flatten":
                value = value.ravel()
            elif n["type"] == "Threshold":
                value = (value.reshape(n["threshold"].shape) > n["threshold"]).astype(np.float64)
        spikes = value.ravel()
        if metadata["decode"] == "n_hot_key":
            scores = (2 * spikes - 1) @ (2 * (key >= 0.5) - 1).T
            classes.append(int(np.argmax(scores)))  # ties: the lowest class, as the engine
        else:
            fired = np.flatnonzero(spikes[: metadata["classes"]])
            classes.append(int(fired[0]) if fired.size else 0)
    return np.array(classes)


def mnist_test(n):
    import gzip
    with gzip.open(MNIST / "t10k-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)[:n]
    with gzip.open(MNIST / "t10k-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)[:n]
    return x.copy(), y.copy()


CASES = {
    # name: (model file, convert keywords, node kinds the export must hold)
    "whetstone_dense": (WHETSTONE, {}, {"Input", "Affine", "Threshold", "Output"}),
    "whetstone_dense_q4_8_bitplanes": (WHETSTONE, {"weights": "Q4.8", "input": "bitplanes"},
                                       {"Input", "Affine", "Threshold", "Output"}),
    "conv_pool": (CONV, {"input": "bitplanes"}, {"Input", "Conv2d", "Threshold", "SumPool2d", "Flatten", "Affine", "Output"}),
    "lenet": (LENET, {"input": "bitplanes", "weights": "Q4.8"}, {"Input", "Conv2d", "Threshold", "SumPool2d", "Flatten", "Affine", "Output"}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_exports_match_the_reference_layout_and_classify_like_the_engine(tmp_path, case):
    model_path, options, kinds = CASES[case]
    net = gs.convert(gs.load_keras(str(model_path)), **options)
    path = tmp_path / f"{case}.nir"
    gs.export_nir(net, str(path))
    nodes, edges, metadata = read_like_the_reference(path)
    assert {n["type"] for n in nodes.values()} == kinds
    # Time and reset semantics stated for NIR users (neuromorphs/NIR issues 70, 145).
    assert metadata["dt"] == 1.0 and metadata["steps_per_sample"] == 1 and metadata["reset"] == "zero"
    x, y = mnist_test({"conv_pool": 60, "lenet": 30}.get(case, 200))
    engine = gs.run(net, x, y)["predictions"]
    assert np.array_equal(evaluate(nodes, edges, metadata, x), engine)


def test_the_checker_catches_the_old_flatten_layout(tmp_path):
    """Flatten's input_type written as a group (our layout before issue 11) is refused."""
    net = gs.convert(gs.load_keras(str(CONV)), input="bitplanes")
    path = tmp_path / "old.nir"
    gs.export_nir(net, str(path))
    with h5py.File(path, "r+") as f:
        flatten = next(g for g in f["node/nodes"].values() if g["type"][()] == b"Flatten")
        shape = flatten["input_type"][()]
        del flatten["input_type"]
        flatten.create_group("input_type").create_dataset("input", data=shape)
    with pytest.raises(AssertionError, match="input_type must be a dataset"):
        read_like_the_reference(path)
