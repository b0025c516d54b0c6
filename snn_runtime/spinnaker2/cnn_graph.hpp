#pragma once
// A CNN as the SpiNNaker 2 large-network mapper sees it: a sequence of fused operators, each one
// MAC-array operation (a convolution or a matrix product) together with what its write-out stage
// applies (batch norm, activation, pooling, element-wise add). Built from the ANN IR by operator
// fusion (converter/passes/mac_graph.hpp); snn_runtime knows nothing of Keras.
// Every tensor is int8 on the hardware (one byte per value), weights included; biases int32.
#include <cstdint>
#include <string>
#include <vector>

#include "hw_model/spinnaker2/mac_array.hpp"

namespace grindstone::snn::s2 {

namespace hw = grindstone::hw::s2;

struct MacOp {
  enum class Kind { Conv, Dense };
  std::string name;
  Kind kind = Kind::Conv;
  /// Input image (channels-last); a Dense op has in_h = in_w = 1 and in_channels = features.
  std::int64_t in_h = 1, in_w = 1, in_channels = 1;
  /// The MAC array's output, before a fused pool.
  std::int64_t out_h = 1, out_w = 1, out_channels = 1;
  std::int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  /// Convolution groups: 1, or in_channels for a depthwise convolution.
  std::int64_t groups = 1;
  /// The op's result after a fused pool (out_h × out_w without one).
  std::int64_t result_h = 1, result_w = 1;
  /// Bytes of the other operands of fused element-wise adds (a residual shortcut), read once.
  std::int64_t extra_input_bytes = 0;
  /// Layers applied on the write-out (batch norm, activation, pooling, add), by name.
  std::vector<std::string> fused;

  /// Reduction length of one output value.
  std::int64_t reduction() const { return kernel_h * kernel_w * (in_channels / groups); }
  std::int64_t macs() const { return out_h * out_w * out_channels * reduction(); }
  /// int8 weights + int32 biases.
  std::int64_t weight_bytes() const {
    return (reduction() * hw::kOperandBytes + hw::kBiasBytes) * out_channels;
  }
  std::int64_t input_bytes() const { return in_h * in_w * in_channels * hw::kOperandBytes; }
  std::int64_t output_bytes() const { return result_h * result_w * out_channels * hw::kOperandBytes; }
  /// Input channels one output channel reads (all of them, or its group's).
  std::int64_t input_channels_per_output(std::int64_t outputs) const;
};

/// A network for the mapper: ops in execution order, and the input image it starts from.
struct MacGraph {
  std::string name;
  std::vector<MacOp> ops;
  std::int64_t input_bytes = 0;  ///< the image (read from DRAM by the first op)
  std::int64_t macs() const;
  std::int64_t weight_bytes() const;
};

}  // namespace grindstone::snn::s2
