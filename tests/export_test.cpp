// End-to-end tests of `grindstone export`: the NIR file is read back with h5py (groups, dataset
// names and shapes) and evaluated as a graph with numpy; the PyNN script runs on pyNN.brian2
// and must classify like the single-pass engine.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "converter/export/nir.hpp"
#include "converter/passes/pipeline.hpp"
#include "testing/reference_snn.hpp"
#include "testing/test_models.hpp"
#include "datasets/dataset.hpp"
#include "snn_runtime/functional/single_pass.hpp"
#include "snn_runtime/network/snn_file.hpp"
#include "tests/test_support.hpp"

using namespace grindstone;
using grindstone::testing::require_shared;
using grindstone::testing::run_cli;
using grindstone::testing::TempDir;

namespace {

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

/// Debian's python3 has h5py/PyNN/brian2; a pyenv python3 earlier on PATH may not.
std::string python() { return std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3"; }

bool python_has(const std::string& module) {
  return std::system((python() + " -c 'import " + module + "' >/dev/null 2>&1").c_str()) == 0;
}

/// Runs `python3 script args`, returning stdout (and the exit code through `code`).
std::string run_python(const std::filesystem::path& script, const std::string& args, int& code, const TempDir& tmp) {
  const auto out = tmp / "py.out";
  const auto err = tmp / "py.err";
  const int status = std::system((python() + " " + quoted(script) + " " + args + " >" + quoted(out) + " 2>" +
                                  quoted(err)).c_str());
  code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(out), ein(err);
  std::stringstream s, e;
  s << in.rdbuf();
  e << ein.rdbuf();
  if (code != 0) MESSAGE("python stderr: " << e.str());
  return s.str();
}

std::vector<int> parse_classes(const std::string& text) {
  std::vector<int> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("class: ", 0) == 0) out.push_back(std::stoi(line.substr(7)));
  return out;
}

// Reads a NIR file back with h5py, checks its layout, evaluates the graph with numpy on the
// given binary images (one per line, 0/1 characters) and prints one class per image.
const char* kNirReader = R"PY(
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r')
assert f['version'][()].decode().startswith('1.'), 'version'
g = f['node']
assert g['type'][()] == b'NIRGraph'
nodes = g['nodes']
edges = [(a.decode(), b.decode()) for a, b in g['edges'][()]]
assert g['edges'].shape == (len(edges), 2)
for name in nodes:
    assert 'type' in nodes[name], name
kinds = {name: nodes[name]['type'][()].decode() for name in nodes}
need = {'Input': ['shape'], 'Output': ['shape'], 'Affine': ['weight', 'bias'], 'Threshold': ['threshold'],
        'Conv2d': ['weight', 'bias', 'stride', 'padding', 'dilation', 'groups', 'input_shape'],
        'SumPool2d': ['kernel_size', 'stride', 'padding'], 'Flatten': ['start_dim', 'end_dim']}
for name, kind in kinds.items():
    for field in need[kind]:
        assert field in nodes[name], (name, field)
    if kind == 'Affine':
        w = nodes[name]['weight']
        assert w.ndim == 2 and nodes[name]['bias'].shape == (w.shape[0],), name
    if kind == 'Conv2d':
        w = nodes[name]['weight']
        assert w.ndim == 4 and nodes[name]['bias'].shape == (w.shape[0],), name
print('kinds: ' + ' '.join(sorted(set(kinds.values()))))
for a, b in edges:
    print('edge: %s %s %s' % (kinds[a], kinds[b], tuple(nodes[b]['weight'].shape) if 'weight' in nodes[b] else ''))
succ = dict(edges)
images = [np.array([int(c) for c in line.strip()], dtype=np.float64) for line in open(sys.argv[2]) if line.strip()]
meta = g['metadata']
key = meta['key'][()] if 'key' in meta else None
for x in images:
    node, value = 'input', x.reshape(nodes['input']['shape'][()])
    while node != 'output':
        node = succ[node]
        n, kind = nodes[node], kinds[node]
        if kind == 'Affine':
            value = n['weight'][()].astype(np.float64) @ value.ravel() + n['bias'][()]
        elif kind == 'Threshold':
            value = (value.reshape(n['threshold'].shape) > n['threshold'][()]).astype(np.float64)
        elif kind == 'Flatten':
            value = value.ravel()
        elif kind != 'Output':
            raise SystemExit('numpy evaluator: unsupported node ' + kind)
    spikes = value.ravel()
    scores = (2 * spikes - 1) @ (2 * key - 1).T if key is not None else spikes
    print('class: %d' % int(np.argmax(scores)))
)PY";

}  // namespace

TEST_CASE("export --nir: NIR layout read back with h5py; the graph classifies like the network") {
  auto shared = require_shared("export nir");
  if (!shared) return;
  if (!python_has("h5py")) {
    MESSAGE("SKIP (export nir): python3 h5py not available");
    return;
  }
  TempDir tmp("export_nir");
  const auto net_path = tmp / "net.snn.h5";
  for (const char* weights : {"float", "Q4.8"}) {
    CAPTURE(weights);
    REQUIRE(run_cli("convert " + quoted(*shared / "models/whetstone/whetstone_dense_mnist.h5") + " -o " +
                    quoted(net_path) + " --weights " + weights)
                .exit_code == 0);
    const auto nir = tmp / "net.nir.h5";
    const auto r = run_cli("export " + quoted(net_path) + " --nir " + quoted(nir) + " --json");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto net = snn::load_network(net_path);
    const auto test = datasets::load("mnist", datasets::Split::Test, {}, 40);
    std::vector<int> expected;
    {
      std::ofstream images(tmp / "images.txt");
      for (std::int64_t s = 0; s < test.size(); ++s) {
        for (std::int64_t i = 0; i < test.pixels_per_image(); ++i) images << (test.image(s)[i] >= 128 ? '1' : '0');
        images << '\n';
        expected.push_back(passes::testing::reference_class(net, passes::testing::reference_spikes(net, test.image(s))));
      }
    }
    {
      std::ofstream(tmp / "read_nir.py") << kNirReader;
    }
    int code = -1;
    const auto out = run_python(tmp / "read_nir.py", quoted(nir) + " " + quoted(tmp / "images.txt"), code, tmp);
    REQUIRE(code == 0);
    CHECK(out.find("kinds: Affine Input Output Threshold") != std::string::npos);
    CHECK(out.find("edge: Input Affine (256, 784)") != std::string::npos);
    CHECK(out.find("edge: Threshold Affine (64, 256)") != std::string::npos);
    CHECK(out.find("edge: Threshold Affine (100, 64)") != std::string::npos);
    CHECK(out.find("edge: Threshold Output") != std::string::npos);
    CHECK(parse_classes(out) == expected);
  }
}

TEST_CASE("export --nir: conv networks become Conv2d (Cout, Cin, kH, kW), SumPool2d and Flatten") {
  if (!python_has("h5py")) {
    MESSAGE("SKIP (export nir conv): python3 h5py not available");
    return;
  }
  const auto model = passes::testing::ChainBuilder(Shape{8, 8, 1})
                         .conv("c1", 3, 4, ann::Padding::Same)
                         .step("s1")
                         .max_pool("p1")
                         .flatten("f")
                         .dense("d", 6)
                         .step("s2")
                         .build();
  TempDir tmp("export_nir_conv");
  const auto net = passes::convert_single_pass(model, {}).network;
  exporters::export_nir(net, tmp / "conv.nir.h5");
  std::ofstream(tmp / "read_nir.py") << kNirReader;
  std::ofstream(tmp / "none.txt") << "";
  int code = -1;
  const auto out = run_python(tmp / "read_nir.py", quoted(tmp / "conv.nir.h5") + " " + quoted(tmp / "none.txt"), code, tmp);
  REQUIRE(code == 0);
  CHECK(out.find("kinds: Affine Conv2d Flatten Input Output SumPool2d Threshold") != std::string::npos);
  CHECK(out.find("edge: Input Conv2d (4, 1, 3, 3)") != std::string::npos);
  CHECK(out.find("edge: Threshold SumPool2d") != std::string::npos);
  CHECK(out.find("edge: Flatten Affine (6, 64)") != std::string::npos);
  // Whetstone's "≥" becomes NIR's ">" one representable step lower.
  snn::WeightFormat q;
  q.is_float = false;
  q.fixed = FixedPointFormat{4, 8};
  CHECK(exporters::strict_threshold(0.5f, q) == doctest::Approx(0.5 - 1.0 / 256));
  CHECK(exporters::strict_threshold(0.5f, {}) < 0.5f);
  CHECK(std::nextafter(exporters::strict_threshold(0.5f, {}), 1.0f) == 0.5f);
}

TEST_CASE("export --pynn: the script runs on pyNN.brian2 and classifies like the single-pass engine") {
  auto shared = require_shared("export pynn");
  if (!shared) return;
  if (!python_has("pyNN.brian2")) {
    MESSAGE("SKIP (export pynn): python3 -c 'import pyNN.brian2' fails");
    return;
  }
  TempDir tmp("export_pynn");
  const auto net_path = tmp / "net.snn.h5";
  REQUIRE(run_cli("convert " + quoted(*shared / "models/whetstone/whetstone_dense_mnist.h5") + " -o " +
                  quoted(net_path) + " --temporal-groups 2")
              .exit_code == 0);
  const auto script = tmp / "net.py";
  const auto r = run_cli("export " + quoted(net_path) + " --pynn " + quoted(script));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const int limit = std::getenv("GRINDSTONE_TEST_QUICK") ? 2 : 4;
  int code = -1;
  const auto out = run_python(script, "--simulator brian2 --print-classes --limit " + std::to_string(limit), code, tmp);
  REQUIRE(code == 0);
  const auto classes = parse_classes(out);
  REQUIRE(classes.size() == static_cast<std::size_t>(limit));
  CHECK(out.rfind("accuracy: ") != std::string::npos);
  const auto test = datasets::load("mnist", datasets::Split::Test, {}, limit);
  const snn::SinglePassEngine engine(snn::load_network(net_path));
  const auto run = engine.run(test);
  REQUIRE(run.predictions.size() == classes.size());
  CHECK(run.predictions == classes);
}
