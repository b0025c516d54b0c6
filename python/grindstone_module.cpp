// The `grindstone` Python module: the CLI's commands on numpy arrays and in-memory models.
// Every result dict is the object the matching `grindstone … --json` prints, built by the same
// library functions (apps/commands.hpp, apps/run_command.hpp); long work releases the GIL;
// bad input raises grindstone.InputError (a ValueError) carrying the CLI's one-line message.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <CLI/CLI.hpp>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/commands.hpp"
#include "apps/run_command.hpp"
#include "apps/sharpen_command.hpp"
#include "common/error.hpp"
#include "common/parallel.hpp"
#include "converter/export/nir.hpp"
#include "converter/export/pynn.hpp"
#include "converter/keras/import.hpp"
#include "datasets/npy.hpp"
#include "datasets/user_data.hpp"
#include "snn_runtime/network/snn_file.hpp"

namespace py = pybind11;
using namespace grindstone;

namespace {

/// A Keras model as imported, with the file it came from (the reports' "model").
struct PyModel {
  ann::Model model;
  std::string path;
  std::optional<std::string> architecture;
};

/// A converted network; `path` is the file it was read from or last saved to ("" = none yet).
struct PyNetwork {
  std::shared_ptr<const snn::Network> network;
  std::string path;
  py::object report;  ///< convert's dict (None when loaded from a file)
};

/// JSON → Python through the json module: exactly what `--json` prints, parsed by Python.
py::object to_python(const nlohmann::json& j) { return py::module_::import("json").attr("loads")(j.dump()); }

/// A numpy array as the .npy reader's NpyArray (C order, dtype checked by datasets::from_arrays).
datasets::NpyArray to_npy(const py::array& input, const std::string& what) {
  const py::array a = py::array::ensure(input, py::array::c_style);
  if (!a) throw InputError(what + ": not convertible to a C-ordered numpy array");
  datasets::NpyArray out;
  const char kind = a.dtype().kind();
  switch (kind) {
    case 'b': out.kind = datasets::NpyKind::Bool; break;
    case 'u': out.kind = datasets::NpyKind::Unsigned; break;
    case 'i': out.kind = datasets::NpyKind::Signed; break;
    case 'f': out.kind = datasets::NpyKind::Float; break;
    default: throw InputError(what + ": dtype '" + std::string(py::str(a.dtype())) + "' is not bool, integer or float");
  }
  out.item_bytes = static_cast<int>(a.itemsize());
  for (py::ssize_t d = 0; d < a.ndim(); ++d) out.shape.push_back(static_cast<std::int64_t>(a.shape(d)));
  const auto bytes = static_cast<std::size_t>(a.nbytes());
  out.bytes.resize(bytes);
  if (bytes) std::memcpy(out.bytes.data(), a.data(), bytes);
  return out;
}

/// Samples from arrays (x, optional y) or, when x is None, the dataset's split.
datasets::Dataset samples(const py::object& x, const py::object& y, const std::string& dataset, std::int64_t limit,
                          datasets::Split split, const std::string& what) {
  require_input(limit >= 0, "limit", std::to_string(limit) + " must not be negative");
  if (x.is_none()) {
    require_input(y.is_none(), what, "y given without x");
    datasets::check_dataset_name(dataset);
    return datasets::load(dataset, split, std::nullopt, limit);
  }
  const datasets::NpyArray xs = to_npy(x, what + " x");
  std::optional<datasets::NpyArray> ys;
  if (!y.is_none()) ys = to_npy(y, what + " y");
  datasets::Dataset data = datasets::from_arrays(xs, ys ? &*ys : nullptr, what + " x", what + " y", limit);
  data.name = "numpy";  // the reports' "dataset" (the CLI names the inputs file there)
  return data;
}

PyModel load_keras(const std::string& path, const std::optional<std::string>& architecture) {
  std::optional<std::filesystem::path> arch;
  if (architecture) arch = *architecture;
  PyModel m;
  {
    py::gil_scoped_release release;
    m.model = keras::load_model(path, arch);
  }
  m.path = path;
  m.architecture = architecture;
  return m;
}

py::object evaluate(const PyModel& m, const py::object& x, const py::object& y, const std::string& input,
                    const std::string& dataset, std::int64_t limit, int threads) {
  cli::EvalOptions opt;
  opt.model = m.path;
  opt.input = input;
  opt.dataset = dataset;
  opt.limit = limit;
  opt.common.threads = threads;
  const datasets::Dataset data = samples(x, y, dataset, limit, datasets::Split::Test, "evaluate");
  cli::Report r;
  {
    py::gil_scoped_release release;
    r = cli::eval_report(opt, m.model, data);
  }
  return to_python(r.json);
}

PyNetwork convert(const PyModel& m, const std::string& weights, const std::string& input, const std::string& bias,
                  int temporal_groups, int threads) {
  cli::ConvertCommandOptions opt;
  opt.model = m.path;
  opt.weights = weights;
  opt.input = input;
  opt.bias = bias;
  opt.temporal_groups = temporal_groups;
  opt.common.threads = threads;
  require_input(bias == "neurons" || bias == "threshold", "bias", "'" + bias + "' is not neurons or threshold");
  require_input(input == "threshold" || input == "bitplanes", "input", "'" + input + "' is not threshold or bitplanes");
  require_input(temporal_groups >= 1 && temporal_groups <= 64, "temporal_groups",
                std::to_string(temporal_groups) + " is outside 1..64");
  std::optional<cli::Converted> converted;
  {
    py::gil_scoped_release release;
    converted.emplace(cli::convert_model(opt, m.model));
  }
  PyNetwork net;
  net.network = std::make_shared<const snn::Network>(std::move(converted->network));
  net.report = to_python(converted->report.json);
  return net;
}

PyNetwork load_network(const std::string& path) {
  PyNetwork net;
  {
    py::gil_scoped_release release;
    net.network = std::make_shared<const snn::Network>(snn::load_network(path));
  }
  net.path = path;
  net.report = py::none();
  return net;
}

/// Strings for the time-scale factor: a number or "auto", as on the command line.
std::string factor_string(const py::object& v) {
  if (py::isinstance<py::str>(v)) return v.cast<std::string>();
  if (py::isinstance<py::int_>(v)) return std::to_string(v.cast<long long>());
  return py::str(v).cast<std::string>();
}

py::object run(const PyNetwork& net, const py::object& x, const py::object& y, const std::string& engine,
               const py::kwargs& kwargs) {
  cli::RunOptions opt;
  opt.network = net.path.empty() ? std::filesystem::path("network") : std::filesystem::path(net.path);
  opt.network_model = net.network;
  opt.engine = engine;
  opt.keep_outputs = engine == "single-pass" || engine == "rate";
  for (const auto& [key_handle, value] : kwargs) {
    const auto key = key_handle.cast<std::string>();
    if (key == "dataset") opt.dataset = value.cast<std::string>();
    else if (key == "limit") opt.limit = value.cast<std::int64_t>();
    else if (key == "seed") opt.seed = value.cast<std::uint64_t>();
    else if (key == "threads") opt.common.threads = value.cast<int>();
    else if (key == "timesteps") opt.timesteps = value.cast<int>();
    else if (key == "rate_input") opt.rate_input = value.cast<std::string>();
    else if (key == "rate_readout") opt.rate_readout = value.cast<std::string>();
    else if (key == "input_rate_hz") opt.input_rate_hz = value.cast<double>();
    else if (key == "tiles") opt.tiles = value.cast<int>();
    else if (key == "boards") opt.boards = value.cast<int>();
    else if (key == "between_sample_ms") opt.between_sample_ms = value.cast<double>();
    else if (key == "time_scale_factor") opt.time_scale_factor = factor_string(py::reinterpret_borrow<py::object>(value));
    else if (key == "timestep_ms") opt.timestep_ms = value.cast<double>();
    else if (key == "drop_probability") opt.drop_probability = value.cast<double>();
    else if (key == "emergency_wait_cycles") opt.emergency_wait_cycles = value.cast<std::int64_t>();
    else if (key == "dead_links") opt.dead_links = value.cast<std::vector<std::string>>();
    else if (key == "dead_chips") opt.dead_chips = value.cast<std::vector<std::string>>();
    else if (key == "clock_mhz") opt.clock_mhz = value.cast<double>();
    else if (key == "chips") opt.chips = value.cast<int>();
    else if (key == "s2_mode") opt.s2_mode = value.cast<std::string>();
    else throw InputError("run: unknown keyword argument '" + key + "'");
  }
  const datasets::Dataset data = samples(x, y, opt.dataset, opt.limit, datasets::Split::Test, "run");
  cli::RunResult r;
  {
    py::gil_scoped_release release;
    ThreadLimit limit(opt.common.threads);
    r = cli::run_network(opt, data);
  }
  py::dict out = to_python(r.report);
  py::array_t<std::int32_t> predictions(static_cast<py::ssize_t>(r.predictions.size()));
  auto p = predictions.mutable_unchecked<1>();
  for (py::ssize_t i = 0; i < p.shape(0); ++i) p(i) = r.predictions[static_cast<std::size_t>(i)];
  out["predictions"] = predictions;
  if (r.output_width > 0 && !r.outputs.empty()) {
    const auto rows = static_cast<py::ssize_t>(r.outputs.size() / static_cast<std::size_t>(r.output_width));
    py::array_t<std::int32_t> outputs({rows, static_cast<py::ssize_t>(r.output_width)});
    std::memcpy(outputs.mutable_data(), r.outputs.data(), r.outputs.size() * sizeof(std::int32_t));
    out["outputs"] = outputs;
  } else {
    out["outputs"] = py::none();
  }
  return out;
}

py::object compare(const PyModel& m, const py::object& x, const py::object& y, const std::optional<PyModel>& sharpened,
                   const std::string& sharpened_input, const std::vector<int>& timesteps, const py::object& train_x,
                   const std::string& dataset, std::int64_t limit, int threads) {
  cli::CompareOptions opt;
  opt.model = m.path;
  opt.sharpened = sharpened ? sharpened->path : std::string();
  opt.sharpened_input = sharpened_input;
  opt.timesteps = timesteps;
  opt.dataset = dataset;
  opt.limit = limit;
  opt.common.threads = threads;
  require_input(sharpened_input == "bitplanes" || sharpened_input == "threshold", "sharpened_input",
                "'" + sharpened_input + "' is not bitplanes or threshold");
  const datasets::Dataset test = samples(x, y, dataset, limit, datasets::Split::Test, "compare");
  // The CLI's rule: users' own samples are also the normalisation data unless others are given.
  const datasets::Dataset training = !train_x.is_none() ? samples(train_x, py::none(), dataset, 0, datasets::Split::Train, "compare train_x")
                                     : !x.is_none()      ? test
                                                         : datasets::load(dataset, datasets::Split::Train);
  cli::Report r;
  {
    py::gil_scoped_release release;
    r = cli::compare_report(opt, m.model, test, training, sharpened ? &sharpened->model : nullptr);
  }
  return to_python(r.json);
}

/// sharpen(**flags): every CLI flag by its Python name (from_="m.h5" → --from m.h5, arch=…,
/// epochs=…, uniform=True → --uniform); x/y and x_test/y_test: the training and test arrays.
py::object sharpen_model(const py::object& x, const py::object& y, const py::object& x_test, const py::object& y_test,
                         const py::kwargs& kwargs) {
  std::vector<std::string> args;
  for (const auto& [key_handle, value] : kwargs) {
    std::string key = key_handle.cast<std::string>();
    if (!key.empty() && key.back() == '_') key.pop_back();  // from_ (a Python keyword)
    for (char& c : key)
      if (c == '_') c = '-';
    if (py::isinstance<py::bool_>(value)) {
      if (value.cast<bool>()) args.push_back("--" + key);
      continue;
    }
    args.push_back("--" + key);
    args.push_back(py::str(value).cast<std::string>());
  }
  cli::SharpenOptions opt;
  CLI::App parser{"grindstone.sharpen"};
  cli::add_sharpen_options(parser, opt);
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 parses a reversed vector
    parser.parse(reversed);
  } catch (const CLI::ParseError& e) {
    throw InputError(std::string("sharpen: ") + e.what());
  }
  const bool arrays = !x.is_none();
  require_input(arrays == !x_test.is_none(), "sharpen", "give both x (training) and x_test, or neither");
  std::optional<datasets::Dataset> train, test;
  if (arrays) {
    train.emplace(samples(x, y, opt.dataset, 0, datasets::Split::Train, "sharpen"));
    test.emplace(samples(x_test, y_test, opt.dataset, 0, datasets::Split::Test, "sharpen test"));
  }
  cli::Report r;
  {
    py::gil_scoped_release release;
    r = cli::sharpen_report(opt, train ? &*train : nullptr, test ? &*test : nullptr);
  }
  return to_python(r.json);
}

}  // namespace

PYBIND11_MODULE(grindstone, m) {
  m.doc() = "Grindstone: Keras models to binary spiking networks on SpiNNaker 1 and 2 models";
  py::register_exception<InputError>(m, "InputError", PyExc_ValueError);

  py::class_<PyModel>(m, "Model", "A Keras model as imported (load_keras)")
      .def_property_readonly("path", [](const PyModel& self) { return self.path; })
      .def_property_readonly("name", [](const PyModel& self) { return self.model.name; })
      .def_property_readonly("input_shape", [](const PyModel& self) { return self.model.input_shape().dims; })
      .def_property_readonly("params", [](const PyModel& self) { return self.model.param_count(); })
      .def("__repr__", [](const PyModel& self) { return "<grindstone.Model '" + self.path + "'>"; });

  py::class_<PyNetwork>(m, "Network", "A converted binary spiking network (convert, load_network)")
      .def("save",
           [](PyNetwork& self, const std::string& path) {
             {
               py::gil_scoped_release release;
               snn::save_network(*self.network, path);
             }
             self.path = path;
           },
           py::arg("path"), "Writes the network as .snn.h5")
      .def_property_readonly("path", [](const PyNetwork& self) { return self.path; })
      .def_property_readonly("report", [](const PyNetwork& self) { return self.report; },
                             "convert's dict (None when loaded from a file)")
      .def_property_readonly("input_shape", [](const PyNetwork& self) { return self.network->input_shape.dims; })
      .def_property_readonly("populations", [](const PyNetwork& self) { return self.network->populations.size(); })
      .def("__repr__", [](const PyNetwork& self) {
        return "<grindstone.Network " + std::to_string(self.network->populations.size()) + " populations" +
               (self.path.empty() ? "" : " '" + self.path + "'") + ">";
      });

  m.def("load_keras", &load_keras, py::arg("path"), py::arg("architecture") = py::none(),
        "Imports a Keras model (.h5, .keras; weights-only .h5 with architecture=JSON file)");
  m.def("inspect", [](const PyModel& model) { return to_python(cli::inspect_report(model.model, model.path).json); },
        py::arg("model"), "The dict `grindstone inspect --json` prints");
  m.def("evaluate", &evaluate, py::arg("model"), py::arg("x") = py::none(), py::arg("y") = py::none(),
        py::arg("input") = "real", py::arg("dataset") = "mnist", py::arg("limit") = 0, py::arg("threads") = 0,
        "Float reference accuracy (the `eval --json` dict); x: N×H×W[×C] uint8 or float, y: labels");
  m.def("convert", &convert, py::arg("model"), py::arg("weights") = "float", py::arg("input") = "threshold",
        py::arg("bias") = "neurons", py::arg("temporal_groups") = 1, py::arg("threads") = 0,
        "Single-pass conversion (as `convert`); the Network's .report is the `convert --json` dict");
  m.def("load_network", &load_network, py::arg("path"), "Reads a .snn.h5 network");
  m.def("run", &run, py::arg("network"), py::arg("x") = py::none(), py::arg("y") = py::none(),
        py::arg("engine") = "single-pass",
        "Runs an engine (single-pass | rate | spinnaker1 | spinnaker2): the `run --json` dict plus "
        "'predictions' and 'outputs' (numpy). Keywords as the CLI flags: limit, seed, threads, timesteps, "
        "rate_input, rate_readout, tiles, boards, between_sample_ms, time_scale_factor, timestep_ms, "
        "drop_probability, clock_mhz, chips, s2_mode, …");
  m.def("compare", &compare, py::arg("model"), py::arg("x") = py::none(), py::arg("y") = py::none(),
        py::arg("sharpened") = py::none(), py::arg("sharpened_input") = "bitplanes",
        py::arg("timesteps") = std::vector<int>{8, 16, 32, 64, 128, 256}, py::arg("train_x") = py::none(),
        py::arg("dataset") = "mnist", py::arg("limit") = 0, py::arg("threads") = 0,
        "Rate coding vs single-pass (the `compare --json` dict)");
  m.def("sharpen", &sharpen_model, py::arg("x") = py::none(), py::arg("y") = py::none(),
        py::arg("x_test") = py::none(), py::arg("y_test") = py::none(),
        "Whetstone-style sharpening (the `sharpen --json` dict); keywords are the CLI flags "
        "(arch=, from_=, out=, epochs=, recipe=, …)");
  m.def("export_nir", [](const PyNetwork& net, const std::string& path) {
          py::gil_scoped_release release;
          exporters::export_nir(*net.network, path);
        }, py::arg("network"), py::arg("path"), "Writes a NIR graph (HDF5)");
  m.def("export_pynn", [](const PyNetwork& net, const std::string& path) {
          py::gil_scoped_release release;
          exporters::export_pynn(*net.network, path);
        }, py::arg("network"), py::arg("path"), "Writes a standalone PyNN script");
}
