#include "converter/nir/nir_graph.hpp"

#include "common/error.hpp"

namespace grindstone::nir {

namespace {

/// Reads every dataset of `group` into `numbers`/`strings`, sub-groups into `groups`.
void read_fields(const keras::H5File& file, hid_t group, const std::string& where,
                 std::map<std::string, keras::Tensor>& numbers, std::map<std::string, std::string>& strings,
                 std::vector<std::string>* groups) {
  for (const auto& child : file.child_names(group, where)) {
    if (file.is_group(group, child)) {
      if (groups) groups->push_back(child);
      continue;
    }
    if (file.is_string_dataset(group, child)) {
      const auto values = file.string_list_dataset(group, child, where);
      require_input(values.size() == 1, where, child + ": expected one string, found " + std::to_string(values.size()));
      strings[child] = values.front();
    } else {
      numbers[child] = file.float_dataset(group, child, where + ": " + child);
    }
  }
}

}  // namespace

const keras::Tensor& NirNode::number(const std::string& field, const std::string& file) const {
  auto it = numbers.find(field);
  require_input(it != numbers.end(), file + ": node '" + name + "' (" + type + ")", field + ": missing");
  return it->second;
}

const NirNode* NirGraph::find(const std::string& name) const {
  for (const auto& n : nodes)
    if (n.name == name) return &n;
  return nullptr;
}

bool is_nir_file(const std::filesystem::path& path) {
  try {
    const keras::H5File file = keras::H5File::open(path);
    if (!file.is_group(file.root(), "node") || !file.is_string_dataset(file.root(), "node/type")) return false;
    const auto type = file.string_list_dataset(file.root(), "node/type", path.string());
    return type.size() == 1 && type.front() == "NIRGraph";
  } catch (const InputError&) {
    return false;
  }
}

NirGraph read_graph(const std::filesystem::path& path) {
  NirGraph g;
  g.file = path.string();
  const keras::H5File file = keras::H5File::open(path);
  const hid_t root = file.root();
  if (file.is_string_dataset(root, "version")) {
    const auto v = file.string_list_dataset(root, "version", g.file);
    if (v.size() == 1) g.version = v.front();
  }
  require_input(file.is_group(root, "node"), g.file, "node: missing (not a NIR graph file)");
  const keras::Hid node = file.open_group(root, "node");
  const auto type = file.string_list_dataset(node.get(), "type", g.file + ": node");
  require_input(type.size() == 1 && type.front() == "NIRGraph", g.file,
                "node/type: '" + (type.empty() ? std::string() : type.front()) + "' is not NIRGraph");
  require_input(file.is_group(node.get(), "nodes"), g.file, "node/nodes: missing");
  const keras::Hid nodes = file.open_group(node.get(), "nodes");
  for (const auto& name : file.child_names(nodes.get(), g.file + ": node/nodes")) {
    const std::string where = g.file + ": node '" + name + "'";
    require_input(file.is_group(nodes.get(), name), where, "is not a group");
    const keras::Hid group = file.open_group(nodes.get(), name);
    NirNode n;
    n.name = name;
    read_fields(file, group.get(), where, n.numbers, n.strings, &n.groups);
    auto t = n.strings.find("type");
    require_input(t != n.strings.end(), where, "type: missing");
    n.type = t->second;
    n.strings.erase(t);
    require_input(n.type != "NIRGraph", where, "type: nested NIRGraph nodes are not supported (flatten the graph first)");
    if (file.is_group(group.get(), "metadata")) {
      const keras::Hid meta = file.open_group(group.get(), "metadata");
      std::map<std::string, std::string> ignored;
      read_fields(file, meta.get(), where + ": metadata", n.metadata, ignored, nullptr);
    }
    g.nodes.push_back(std::move(n));
  }
  const auto flat = file.string_list_dataset(node.get(), "edges", g.file + ": node");
  require_input(flat.size() % 2 == 0, g.file, "node/edges: " + std::to_string(flat.size()) + " strings is not (E, 2)");
  for (std::size_t i = 0; i < flat.size(); i += 2) {
    require_input(g.find(flat[i]) && g.find(flat[i + 1]), g.file,
                  "node/edges: edge " + flat[i] + " -> " + flat[i + 1] + " names a node that does not exist");
    g.edges.emplace_back(flat[i], flat[i + 1]);
  }
  if (file.is_group(node.get(), "metadata")) {
    const keras::Hid meta = file.open_group(node.get(), "metadata");
    read_fields(file, meta.get(), g.file + ": node/metadata", g.metadata, g.metadata_strings, nullptr);
  }
  return g;
}

}  // namespace grindstone::nir
