"""Notebook-style tour of the grindstone Python module: a Whetstone model, your own numpy arrays,
every engine, and the rate vs single-pass comparison.

    PYTHONPATH=build/python python3 examples/notebook.py

GRINDSTONE_EXAMPLE_LIMIT (default 500) sets how many test images are used;
GRINDSTONE_EXAMPLE_OUT (default: a temporary folder) where the network and exports go.
"""
import gzip
import os
import tempfile
from pathlib import Path

import numpy as np

import grindstone as gs

here = Path(__file__).resolve().parent
shared = Path(os.environ.get("GRINDSTONE_SHARED", here.parent.parent / "shared"))
limit = int(os.environ.get("GRINDSTONE_EXAMPLE_LIMIT", "500"))
out = Path(os.environ.get("GRINDSTONE_EXAMPLE_OUT") or tempfile.mkdtemp(prefix="grindstone-"))


def read_idx(path):
    """MNIST's IDX files as numpy arrays (any N×H×W uint8 or float array works the same)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


# %% Your data: here MNIST's test images, as a researcher's own arrays would be.
x = read_idx(shared / "datasets/mnist/t10k-images-idx3-ubyte.gz")[:limit]
y = read_idx(shared / "datasets/mnist/t10k-labels-idx1-ubyte.gz")[:limit]

# %% A Whetstone-sharpened Keras model: what it holds, and its float accuracy.
model = gs.load_keras(str(shared / "models/whetstone/whetstone_dense_mnist.h5"))
info = gs.inspect(model)
print(f"{info['name']}: {info['format']}, {info['params_total']} parameters, input {info['input_shape']}")
print(f"float reference: accuracy {gs.evaluate(model, x, y)['accuracy']:.4f} on {len(x)} images")

# %% Convert to a binary spiking network with Q4.8 fixed-point weights, and save it.
net = gs.convert(model, weights="Q4.8", input="threshold")
net.save(str(out / "whetstone.snn.h5"))
print(f"converted: {net.report['neurons']} neurons, {net.report['synapses']} synapses -> {net.path}")

# %% Every engine on the same arrays.
for engine, options in (("single-pass", {}), ("spinnaker1", {"tiles": 4, "time_scale_factor": "auto"}), ("spinnaker2", {})):
    r = gs.run(net, x, y, engine=engine, **options)
    extra = ""
    if engine == "spinnaker1":
        extra = f", {r['cores']} cores on {r['chips']} chips, {r['packets_sent'] / r['samples']:.0f} packets/sample"
    print(f"{engine:12s} accuracy {r['accuracy']:.4f}{extra}")

# %% The single-pass read-out for your own analysis: decode scores per sample, as numpy.
r = gs.run(net, x, y)
print(f"single-pass scores {r['outputs'].shape}; predictions agree with argmax: "
      f"{bool(np.all(r['predictions'] == np.argmax(r['outputs'], axis=1)))}")

# %% Interchange: NIR and a PyNN script.
gs.export_nir(net, str(out / "whetstone.nir"))
gs.export_pynn(net, str(out / "whetstone_pynn.py"))
print(f"exports in {out}")
