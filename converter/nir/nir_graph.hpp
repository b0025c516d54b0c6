#pragma once
// A NIR graph as stored in HDF5 (neuromorphs/NIR, nir/serialization.py): /version, and /node
// with type "NIRGraph", nodes/<name>/{type, parameters…}, edges (E, 2) strings and optional
// metadata/. Read without interpretation; nir_import.hpp gives it meaning.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "converter/keras/hdf5_reader.hpp"

namespace grindstone::nir {

/// One node: its type and its parameters (numeric datasets as float tensors, string datasets
/// as strings; nested groups other than metadata are recorded by name only).
struct NirNode {
  std::string name;
  std::string type;  ///< "Affine", "Conv2d", "IF", …
  std::map<std::string, keras::Tensor> numbers;
  std::map<std::string, std::string> strings;
  std::map<std::string, keras::Tensor> metadata;
  std::vector<std::string> groups;  ///< sub-groups (e.g. input_type written as a group)

  bool has(const std::string& field) const { return numbers.count(field) > 0; }
  /// The numeric parameter `field`; InputError "<file>: node '<name>' (<type>): <field>: missing".
  const keras::Tensor& number(const std::string& field, const std::string& file) const;
};

struct NirGraph {
  std::string file;     ///< for messages
  std::string version;  ///< "" when the file has none
  std::vector<NirNode> nodes;  ///< in the file's (name) order
  std::vector<std::pair<std::string, std::string>> edges;
  std::map<std::string, keras::Tensor> metadata;  ///< the graph's numeric metadata
  std::map<std::string, std::string> metadata_strings;

  const NirNode* find(const std::string& name) const;
};

/// Reads `path`; InputError naming the file and the node/field for anything malformed
/// (not HDF5, no /node, a node without type, edges not (E, 2) strings, nested graphs).
NirGraph read_graph(const std::filesystem::path& path);

/// True when `path` is an HDF5 file laid out as a NIR graph (/node with type NIRGraph).
bool is_nir_file(const std::filesystem::path& path);

}  // namespace grindstone::nir
