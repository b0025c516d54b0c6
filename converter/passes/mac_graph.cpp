#include "converter/passes/mac_graph.hpp"

#include <algorithm>

#include "common/error.hpp"

namespace grindstone::passes {

namespace {

std::int64_t dim(const Shape& s, std::size_t i) { return s.rank() > i ? s[i] : 1; }

/// Builds the graph in one walk: `producer[l]` is the op whose result layer l's tensor is (−1:
/// the input image, no op yet).
class Fuser {
 public:
  explicit Fuser(const ann::Model& model) : model_(model), producer_(model.layers.size(), -1),
                                            consumers_(model.layers.size(), 0) {
    for (const auto& layer : model.layers)
      for (int in : layer.inputs) ++consumers_[static_cast<std::size_t>(in)];
    graph_.name = model.name;
    graph_.input_bytes = model.input_shape().size();
  }

  snn::s2::MacGraph run() {
    for (std::size_t i = 0; i < model_.layers.size(); ++i) visit(i);
    return std::move(graph_);
  }

 private:
  const ann::Layer& layer(int index) const { return model_.layers.at(static_cast<std::size_t>(index)); }
  std::string context(const ann::Layer& l) const {
    return model_.source.path + ": layer '" + l.name + "' (" + l.keras_class + ")";
  }

  void visit(std::size_t i) {
    const ann::Layer& l = model_.layers[i];
    if (l.is<ann::InputLayer>()) return;
    const Shape& in = layer(l.inputs.at(0)).output_shape;
    const int first_producer = producer_[static_cast<std::size_t>(l.inputs[0])];
    if (const auto* d = std::get_if<ann::Dense>(&l.params)) {
      snn::s2::MacOp op;
      op.name = l.name;
      op.kind = snn::s2::MacOp::Kind::Dense;
      op.in_channels = d->kernel.rows();
      op.out_channels = d->kernel.cols();
      add(i, std::move(op));
    } else if (const auto* c = std::get_if<ann::Conv2D>(&l.params)) {
      add(i, image_op(l, in, c->filters, c->kernel_h, c->kernel_w, c->stride_h, c->stride_w, 1));
    } else if (const auto* dw = std::get_if<ann::DepthwiseConv2D>(&l.params)) {
      add(i, image_op(l, in, static_cast<std::int64_t>(dw->channels) * dw->depth_multiplier, dw->kernel_h, dw->kernel_w,
                      dw->stride_h, dw->stride_w, dw->channels));
    } else if (l.is<ann::Pool2D>() || l.is<ann::GlobalAveragePool2D>() || l.is<ann::GlobalMaxPool2D>()) {
      snn::s2::MacOp& op = fusable(l, first_producer);
      op.result_h = dim(l.output_shape, 0);
      op.result_w = l.output_shape.rank() >= 2 ? dim(l.output_shape, 1) : 1;
      fuse(i, op, first_producer);
    } else if (l.is<ann::BatchNorm>() || l.is<ann::Activation>() || l.is<ann::Rescale>()) {
      fuse(i, fusable(l, first_producer), first_producer);
    } else if (l.is<ann::Merge>()) {
      // The op that finishes last computes the element-wise merge (Add, …) on its write-out; the
      // others' results are read.
      int last = -1;
      for (int in_index : l.inputs) last = std::max(last, producer_[static_cast<std::size_t>(in_index)]);
      require_input(last >= 0, context(l), "inputs: a merge of the raw input has no MAC op to fuse into");
      auto& op = graph_.ops[static_cast<std::size_t>(last)];
      for (int in_index : l.inputs)
        if (producer_[static_cast<std::size_t>(in_index)] != last) op.extra_input_bytes += layer(in_index).output_shape.size();
      fuse(i, op, last);
    } else if (l.is<ann::Flatten>() || l.is<ann::Reshape>() || l.is<ann::ZeroPad2D>() || l.is<ann::Identity>() ||
               l.is<ann::SoftmaxDecode>() || l.is<ann::Concatenate>()) {
      int last = -1;
      for (int in_index : l.inputs) last = std::max(last, producer_[static_cast<std::size_t>(in_index)]);
      producer_[i] = last;
    } else {
      throw InputError(context(l) + ": no SpiNNaker 2 MAC mapping for this layer kind");
    }
  }

  /// A convolution-like op over the image `in` (groups = in_channels for a depthwise one).
  static snn::s2::MacOp image_op(const ann::Layer& l, const Shape& in, std::int64_t out_channels, int kernel_h,
                                 int kernel_w, int stride_h, int stride_w, std::int64_t groups) {
    snn::s2::MacOp op;
    op.name = l.name;
    op.in_h = dim(in, 0);
    op.in_w = dim(in, 1);
    op.in_channels = dim(in, 2);
    op.out_h = op.result_h = dim(l.output_shape, 0);
    op.out_w = op.result_w = dim(l.output_shape, 1);
    op.out_channels = out_channels;
    op.kernel_h = kernel_h;
    op.kernel_w = kernel_w;
    op.stride_h = stride_h;
    op.stride_w = stride_w;
    op.groups = groups;
    return op;
  }

  void add(std::size_t i, snn::s2::MacOp op) {
    graph_.ops.push_back(std::move(op));
    producer_[i] = static_cast<int>(graph_.ops.size()) - 1;
  }

  /// The op a write-out stage layer joins; its input must be an op's result that only it reads.
  snn::s2::MacOp& fusable(const ann::Layer& l, int producer) {
    require_input(producer >= 0, context(l), "input: no Conv2D/Dense before it to fuse into");
    require_input(consumers_[static_cast<std::size_t>(l.inputs[0])] == 1, context(l),
                  "input: the tensor it reads is read by other layers too, so it cannot be fused into the write-out");
    return graph_.ops[static_cast<std::size_t>(producer)];
  }

  void fuse(std::size_t i, snn::s2::MacOp& op, int producer) {
    op.fused.push_back(model_.layers[i].name);
    producer_[i] = producer;
  }

  const ann::Model& model_;
  std::vector<int> producer_;
  std::vector<int> consumers_;
  snn::s2::MacGraph graph_;
};

}  // namespace

snn::s2::MacGraph fuse_mac_operators(const ann::Model& model) { return Fuser(model).run(); }

}  // namespace grindstone::passes
