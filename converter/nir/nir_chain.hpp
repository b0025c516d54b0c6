#pragma once
// What both NIR importers share: the Input → … → Output chain of a graph and typed access to
// node parameters with errors naming the file, node and field.
#include <Eigen/Core>
#include <optional>
#include <string>
#include <vector>

#include "common/shape.hpp"
#include "converter/nir/nir_graph.hpp"

namespace grindstone::nir {

/// The nodes from Input to Output; InputError unless the graph is one chain.
std::vector<const NirNode*> chain_of(const NirGraph& graph);

/// A Conv2d node's parameters in our layout.
struct ConvFields {
  int kh = 0, kw = 0, cin = 0, cout = 0;
  std::vector<int> stride, dilation, pad;  ///< (h, w) each; pad symmetric
  Eigen::MatrixXf kernel;  ///< (kh·kw·cin, cout), row (i·kw + j)·cin + c (from NIR's OIHW)
  Eigen::VectorXf bias;    ///< (cout), or empty
  Shape out_shape;         ///< (H, W, C)
};

/// True for NIR's stateful neuron types (IF, LIF, CubaLIF, LI, I, CubaLI).
bool is_stateful_type(const std::string& type);

/// Calls the builder's handler for every node of `chain` by type: input, affine(node, bias?),
/// conv, flatten, scale, pool (SumPool2d/AvgPool2d), neuron (Threshold and the stateful types;
/// the builder refuses those it cannot take); any other type is refused naming the node.
template <class Builder>
void build_chain(const std::vector<const NirNode*>& chain, Builder& b, const class NodeFields& fields);

class NodeFields {
 public:
  explicit NodeFields(const NirGraph& graph) : graph_(graph) {}

  [[noreturn]] void refuse(const NirNode& node, const std::string& field, const std::string& message) const;
  /// `n` integers (a scalar broadcasts); `fallback` when the field is absent.
  std::vector<int> ints(const NirNode& node, const std::string& field, std::size_t n,
                        std::optional<int> fallback = {}) const;
  /// `count` floats (a scalar broadcasts).
  std::vector<float> vector(const NirNode& node, const std::string& field, std::int64_t count) const;
  /// One value per neuron of a population of our `shape`: a scalar, one per channel of an
  /// image, or the full NIR tensor (C, H, W order for images, reordered to ours).
  std::vector<float> per_neuron(const NirNode& node, const std::string& field, const Shape& shape) const;
  /// Input's shape: (C, H, W) → (H, W, C); (N).
  Shape input_shape(const NirNode& node) const;
  /// Flatten must flatten the whole sample (start_dim 0, or 1 as batch-first exporters write).
  void check_flatten(const NirNode& node, std::size_t rank) const;
  ConvFields conv(const NirNode& node, const Shape& in) const;

 private:
  const NirGraph& graph_;
};

template <class Builder>
void build_chain(const std::vector<const NirNode*>& chain, Builder& b, const NodeFields& fields) {
  for (const NirNode* n : chain) {
    const std::string& t = n->type;
    if (t == "Input") b.input(*n);
    else if (t == "Output") continue;
    else if (t == "Affine") b.affine(*n, true);
    else if (t == "Linear") b.affine(*n, false);
    else if (t == "Conv2d") b.conv(*n);
    else if (t == "Flatten") b.flatten(*n);
    else if (t == "Scale") b.scale(*n);
    else if (t == "SumPool2d" || t == "AvgPool2d") b.pool(*n);
    else if (t == "Threshold" || is_stateful_type(t)) b.neuron(*n);
    else fields.refuse(*n, "type", "unsupported NIR primitive");
  }
}

}  // namespace grindstone::nir
