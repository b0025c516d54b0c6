#include "converter/export/pynn.hpp"

#include <nlohmann/json.hpp>

#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "common/paths.hpp"

namespace grindstone::exporters {

namespace {

// The script template lives in its own file so it reads as Python.
constexpr const char* kScript =
#include "converter/export/pynn_script.py.inc"
    ;

std::string base64(const void* data, std::size_t size) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* bytes = static_cast<const unsigned char*>(data);
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  for (std::size_t i = 0; i < size; i += 3) {
    const std::uint32_t b0 = bytes[i], b1 = i + 1 < size ? bytes[i + 1] : 0, b2 = i + 2 < size ? bytes[i + 2] : 0;
    const std::uint32_t n = (b0 << 16) | (b1 << 8) | b2;
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += i + 1 < size ? table[(n >> 6) & 63] : '=';
    out += i + 2 < size ? table[n & 63] : '=';
  }
  return out;
}

/// float32 little-endian (x86 and every platform we build on) in row-major order.
std::string floats_b64(const std::vector<float>& v) { return base64(v.data(), v.size() * sizeof(float)); }

std::string matrix_b64(const Eigen::MatrixXf& m) {
  std::vector<float> v;
  v.reserve(static_cast<std::size_t>(m.size()));
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c) v.push_back(m(r, c));
  return floats_b64(v);
}

const char* role(snn::PopulationRole r) {
  switch (r) {
    case snn::PopulationRole::Input: return "input";
    case snn::PopulationRole::Bias: return "bias";
    case snn::PopulationRole::Hidden: return "hidden";
    case snn::PopulationRole::Output: return "output";
  }
  return "hidden";
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

}  // namespace

std::string pynn_script(const snn::Network& net) {
  snn::validate(net, "export");
  nlohmann::json j;
  j["fraction_bits"] = net.weights.is_float ? -1 : net.weights.fixed.fraction_bits;
  j["output"] = net.output;
  nlohmann::json pops = nlohmann::json::array();
  for (const auto& p : net.populations) {
    require_input(p.model == snn::NeuronModel::InstantDecay, "population '" + p.name + "'",
                  "model: integrate-and-fire (rate) networks are not exported to PyNN");
    nlohmann::json jp = {{"name", p.name}, {"role", role(p.role)},     {"size", p.size()},
                         {"shape", p.shape.dims}, {"tick", p.tick}, {"groups", p.temporal_groups},
                         {"input_bit", p.input_bit}, {"source", p.is_source()}};
    if (!p.is_source()) jp["threshold"] = floats_b64(p.threshold);
    pops.push_back(std::move(jp));
  }
  j["populations"] = std::move(pops);
  nlohmann::json projs = nlohmann::json::array();
  for (const auto& pr : net.projections) {
    nlohmann::json jp = {{"pre", pr.pre}, {"post", pr.post}, {"kind", snn::connector_kind(pr.connector)},
                         {"weight_scale", pr.weight_scale}};
    nlohmann::json params = nlohmann::json::object();
    if (const auto* d = std::get_if<snn::DenseConnector>(&pr.connector)) {
      jp["weights"] = matrix_b64(d->weights);
    } else if (const auto* c = std::get_if<snn::ConvConnector>(&pr.connector)) {
      params = {{"kernel_h", c->kernel_h},     {"kernel_w", c->kernel_w},     {"in_channels", c->in_channels},
                {"out_channels", c->out_channels}, {"stride_h", c->stride_h}, {"stride_w", c->stride_w},
                {"dilation_h", c->dilation_h}, {"dilation_w", c->dilation_w}, {"pad_top", c->pad_top},
                {"pad_left", c->pad_left}};
      jp["weights"] = matrix_b64(c->kernel);
    } else if (const auto* p = std::get_if<snn::PoolConnector>(&pr.connector)) {
      params = {{"pool_h", p->pool_h},     {"pool_w", p->pool_w},   {"stride_h", p->stride_h},
                {"stride_w", p->stride_w}, {"pad_top", p->pad_top}, {"pad_left", p->pad_left},
                {"weight", p->weight}};
    } else {
      params = {{"weight", std::get<snn::OneToOneConnector>(pr.connector).weight}};
    }
    jp["params"] = std::move(params);
    projs.push_back(std::move(jp));
  }
  j["projections"] = std::move(projs);
  nlohmann::json decode = {{"kind", net.decode.kind == snn::Decode::Kind::NHotKey ? "n_hot_key" : "spike_count"},
                           {"classes", net.decode.classes}};
  if (net.decode.kind == snn::Decode::Kind::NHotKey) decode["key"] = matrix_b64(net.decode.key);
  j["decode"] = std::move(decode);

  std::string script = kScript;
  // The JSON holds only ASCII (names, numbers, base64); a ''' inside a name cannot occur in
  // Keras layer names, but refuse it rather than emit a broken script.
  const std::string payload = j.dump();
  require_input(payload.find("'''") == std::string::npos, "export", "a population name contains '''");
  replace_all(script, "@NETWORK@", payload);
  replace_all(script, "@SOURCE_DIR@", nlohmann::json(source_dir().string()).dump());
  replace_all(script, "@SOURCE@", net.provenance.source_file.empty() ? "a converted network" : net.provenance.source_file);
  return script;
}

void export_pynn(const snn::Network& network, const std::filesystem::path& path) {
  write_text_file_atomically(path, pynn_script(network));
}

}  // namespace grindstone::exporters
