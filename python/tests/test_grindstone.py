"""The grindstone Python module against the CLI: every result dict equals `grindstone ... --json`
for the same command (timings aside), numpy in and out, errors as grindstone.InputError.

Run by CTest (test grindstone_python) with PYTHONPATH=<build>/python, GRINDSTONE_CLI=<build>/grindstone
and GRINDSTONE_SOURCE=<source tree>; the real files come from <source>/../shared.
"""
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import grindstone as gs

SOURCE = Path(os.environ.get("GRINDSTONE_SOURCE", Path(__file__).resolve().parents[2]))
SHARED = Path(os.environ.get("GRINDSTONE_SHARED", SOURCE.parent / "shared"))
CLI = os.environ.get("GRINDSTONE_CLI", str(SOURCE / "build" / "grindstone"))
MNIST = SHARED / "datasets" / "mnist"
WHETSTONE = SHARED / "models" / "whetstone" / "whetstone_dense_mnist.h5"
LENET = SHARED / "models" / "keras" / "keras2_lenet5_channels_first.h5"
MLP = SHARED / "models" / "keras" / "keras2_mlp_logits.h5"

# A missing ../shared fails the suite (the brief): these tests are the e2e check of the module.
if not WHETSTONE.exists():
    raise RuntimeError(f"../shared is missing: {WHETSTONE} not found (the Python tests need the shared models)")

# Wall-clock figures of the host (they differ from run to run); model figures such as
# hw_latency_seconds or simulated_seconds are compared.
TIMING = {"seconds", "wall_seconds", "samples_per_second", "mapping_seconds", "rate_wall_seconds"}


def strip_timing(value, drop=TIMING):
    """The dict without the host's wall-clock figures (or other keys in `drop`), at every depth."""
    if isinstance(value, dict):
        return {k: strip_timing(v, drop) for k, v in value.items() if k not in drop}
    if isinstance(value, list):
        return [strip_timing(v, drop) for v in value]
    return value


def same_samples(ours, theirs):
    """ours (numpy arrays) vs theirs (the same arrays as .npy files): only the data's name differs."""
    assert ours["dataset"] == "numpy"
    drop = TIMING | {"dataset", "inputs"}
    assert strip_timing(ours, drop) == strip_timing(theirs, drop)


def cli_json(*args):
    out = subprocess.run([CLI, *map(str, args), "--json"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


@pytest.fixture(scope="module")
def mnist_test():
    x = read_idx(MNIST / "t10k-images-idx3-ubyte.gz")[:300].copy()
    y = read_idx(MNIST / "t10k-labels-idx1-ubyte.gz")[:300].copy()
    return x, y


@pytest.fixture(scope="module")
def whetstone():
    return gs.load_keras(str(WHETSTONE))


def test_inspect_equals_cli():
    model = gs.load_keras(str(LENET))
    assert gs.inspect(model) == cli_json("inspect", LENET)
    assert model.input_shape == [28, 28, 1]
    assert model.params == gs.inspect(model)["params_total"]


def test_evaluate_on_arrays_equals_cli_on_the_same_npy(tmp_path, mnist_test, whetstone):
    x, y = mnist_test
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    ours = gs.evaluate(whetstone, x, y)
    theirs = cli_json("eval", WHETSTONE, "--inputs", tmp_path / "x.npy", "--labels", tmp_path / "y.npy")
    same_samples(dict(ours), theirs)
    assert ours["samples"] == 300
    # Float inputs in [0, 1] give the same accuracy as the uint8 pixels they came from.
    assert gs.evaluate(whetstone, x.astype(np.float32) / 255.0, y)["correct"] == ours["correct"]
    # The dataset path (x=None) equals `eval --limit`.
    assert strip_timing(gs.evaluate(whetstone, limit=300)) == strip_timing(cli_json("eval", WHETSTONE, "--limit", 300))


def test_convert_and_every_engine_equal_cli(tmp_path, mnist_test, whetstone):
    x, y = mnist_test
    net = gs.convert(whetstone, weights="Q4.8", input="threshold")
    net.save(str(tmp_path / "net.snn.h5"))
    theirs = cli_json("convert", WHETSTONE, "-o", tmp_path / "cli.snn.h5", "--weights", "Q4.8", "--input", "threshold")
    theirs.pop("out")
    assert net.report == theirs
    np.save(tmp_path / "x.npy", x[:100])
    np.save(tmp_path / "y.npy", y[:100])
    loaded = gs.load_network(str(tmp_path / "net.snn.h5"))
    engines = {
        "single-pass": {},
        "spinnaker1": {"tiles": 4},
        "spinnaker2": {},
    }
    for engine, kwargs in engines.items():
        r = gs.run(loaded, x[:100], y[:100], engine=engine, **kwargs)
        flags = [a for k, v in kwargs.items() for a in ("--" + k.replace("_", "-"), v)]
        cli = cli_json("run", tmp_path / "net.snn.h5", "--engine", engine, "--inputs", tmp_path / "x.npy",
                       "--labels", tmp_path / "y.npy", *flags)
        predictions, outputs = r.pop("predictions"), r.pop("outputs")
        same_samples(dict(r), cli)
        assert predictions.shape == (100,) and predictions.dtype == np.int32
        assert abs(np.mean(predictions == y[:100]) - r["accuracy"]) < 1e-12, engine
        if engine == "single-pass":
            assert outputs is not None and outputs.shape[0] == 100
        else:
            assert outputs is None
    # Unlabelled samples: predictions only, accuracy null.
    r = gs.run(net, x[:20])
    assert r["accuracy"] is None and r["predictions"].shape == (20,)


def test_the_single_pass_scores_are_the_cli_outputs_file(tmp_path, mnist_test, whetstone):
    x, y = mnist_test
    net = gs.convert(whetstone)
    net.save(str(tmp_path / "net.snn.h5"))
    np.save(tmp_path / "x.npy", x[:50])
    cli_json("run", tmp_path / "net.snn.h5", "--engine", "single-pass", "--inputs", tmp_path / "x.npy",
             "--outputs", tmp_path / "scores.npy")
    r = gs.run(net, x[:50])
    assert np.array_equal(r["outputs"], np.load(tmp_path / "scores.npy"))
    assert np.array_equal(r["predictions"], np.argmax(r["outputs"], axis=1))


def test_bad_input_raises_input_error_with_the_cli_message(whetstone):
    assert issubclass(gs.InputError, ValueError)
    with pytest.raises(gs.InputError) as err:
        gs.evaluate(whetstone, np.zeros((3, 30, 30), np.uint8), np.zeros(3, np.uint8))
    message = str(err.value)
    assert "(30, 30)" in message and "(784,)" in message and "\n" not in message
    with pytest.raises(gs.InputError):
        gs.load_keras("/nonexistent/model.h5")
    with pytest.raises(gs.InputError):
        gs.run(gs.convert(whetstone), np.zeros((2, 28, 28), np.uint8), engine="no-such-engine")
    with pytest.raises(gs.InputError):
        gs.evaluate(whetstone, np.zeros((2, 28, 28), np.complex64), np.zeros(2, np.uint8))
    with pytest.raises(gs.InputError):
        gs.run(gs.convert(whetstone), np.zeros((2, 28, 28), np.uint8), no_such_option=1)


def test_compare_equals_cli(tmp_path, mnist_test):
    x, y = mnist_test
    np.save(tmp_path / "x.npy", x[:100])
    np.save(tmp_path / "y.npy", y[:100])
    model = gs.load_keras(str(MLP))
    sharp = gs.load_keras(str(WHETSTONE))
    ours = gs.compare(model, x[:100], y[:100], sharpened=sharp, timesteps=[8, 16])
    theirs = cli_json("compare", MLP, "--sharpened", WHETSTONE, "--timesteps", "8,16", "--inputs",
                      tmp_path / "x.npy", "--labels", tmp_path / "y.npy")
    same_samples(ours, theirs)


def test_sharpen_on_arrays_equals_cli(tmp_path):
    x = read_idx(MNIST / "train-images-idx3-ubyte.gz")[:1200].copy()
    y = read_idx(MNIST / "train-labels-idx1-ubyte.gz")[:1200].copy()
    xt = read_idx(MNIST / "t10k-images-idx3-ubyte.gz")[:200].copy()
    yt = read_idx(MNIST / "t10k-labels-idx1-ubyte.gz")[:200].copy()
    for name, a in (("x", x), ("y", y), ("xt", xt), ("yt", yt)):
        np.save(tmp_path / f"{name}.npy", a)
    ours = gs.sharpen(x, y, xt, yt, arch="dense:32", epochs=2, out=str(tmp_path / "py.h5"), threads=2)
    theirs = cli_json("sharpen", "--arch", "dense:32", "--epochs", 2, "--out", tmp_path / "cli.h5", "--threads", 2,
                      "--inputs", tmp_path / "x.npy", "--labels", tmp_path / "y.npy",
                      "--test-inputs", tmp_path / "xt.npy", "--test-labels", tmp_path / "yt.npy")
    for key in ("inputs", "test_inputs", "out"):
        theirs.pop(key)
    ours.pop("out")
    same_samples(ours, theirs)
    assert (tmp_path / "py.h5").exists()
    # The saved model loads back and evaluates to the reported accuracy.
    saved = gs.load_keras(str(tmp_path / "py.h5"))
    assert gs.evaluate(saved, xt, yt)["accuracy"] == pytest.approx(ours["accuracy_saved_model"])
    with pytest.raises(gs.InputError):
        gs.sharpen(x, y, xt, yt, arch="dense:32", epochs=1)  # no out


def test_exports_write_files(tmp_path, whetstone):
    net = gs.convert(whetstone)
    gs.export_nir(net, str(tmp_path / "net.nir"))
    gs.export_pynn(net, str(tmp_path / "net.py"))
    assert (tmp_path / "net.nir").stat().st_size > 0
    source = (tmp_path / "net.py").read_text()
    compile(source, "net.py", "exec")


def test_the_example_runs(tmp_path):
    env = dict(os.environ, GRINDSTONE_EXAMPLE_LIMIT="50", GRINDSTONE_EXAMPLE_OUT=str(tmp_path))
    out = subprocess.run([sys.executable, str(SOURCE / "examples" / "notebook.py")], capture_output=True, text=True,
                         env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "single-pass" in out.stdout and "spinnaker1" in out.stdout
