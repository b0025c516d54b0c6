#include "snn_runtime/network/network.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"

namespace grindstone::snn {

int Network::find(const std::string& population_name) const {
  for (std::size_t i = 0; i < populations.size(); ++i)
    if (populations[i].name == population_name) return static_cast<int>(i);
  return -1;
}

std::string connector_kind(const Connector& connector) {
  switch (connector.index()) {
    case 0: return "dense";
    case 1: return "conv";
    case 2: return "pool";
    default: return "one_to_one";
  }
}

void validate(const Network& network, const std::string& context) {
  const auto n = static_cast<int>(network.populations.size());
  require_input(n > 0, context, "populations: none");
  for (int i = 0; i < n; ++i) {
    const Population& p = network.populations[static_cast<std::size_t>(i)];
    const std::string ctx = context + ": population '" + p.name + "'";
    require_input(p.shape.rank() > 0 && p.size() > 0, ctx, "shape: empty " + p.shape.to_string());
    for (auto d : p.shape.dims) require_input(d > 0, ctx, "shape: non-positive dimension in " + p.shape.to_string());
    require_input(p.temporal_groups >= 1, ctx, "temporal_groups: " + std::to_string(p.temporal_groups) + " < 1");
    require_input(p.tick >= 0, ctx, "tick: negative (" + std::to_string(p.tick) + ")");
    require_input(p.threshold.empty() || static_cast<std::int64_t>(p.threshold.size()) == p.size(), ctx,
                  "threshold: " + std::to_string(p.threshold.size()) + " values for " + std::to_string(p.size()) +
                      " neurons");
    require_input(p.bias_current.empty() || static_cast<std::int64_t>(p.bias_current.size()) == p.size(), ctx,
                  "bias_current: " + std::to_string(p.bias_current.size()) + " values for " +
                      std::to_string(p.size()) + " neurons");
    require_input(p.v_reset.empty() || (p.model == NeuronModel::IntegrateAndFire &&
                                        static_cast<std::int64_t>(p.v_reset.size()) == p.size()),
                  ctx, "v_reset: " + std::to_string(p.v_reset.size()) + " values for " + std::to_string(p.size()) +
                           " neurons (integrate-and-fire only)");
    for (float v : p.v_reset) require_input(std::isfinite(v), ctx, "v_reset: not finite");
    require_input(p.role == PopulationRole::Input || p.role == PopulationRole::Bias || !p.threshold.empty(), ctx,
                  "threshold: missing for a layer population");
    for (float t : p.threshold) require_input(std::isfinite(t), ctx, "threshold: not finite");
    require_input(p.input_bit >= -1 && p.input_bit < 8, ctx, "input_bit: " + std::to_string(p.input_bit));
  }
  for (const Projection& pr : network.projections) {
    const std::string ctx = context + ": projection '" + pr.name + "'";
    require_input(pr.pre >= 0 && pr.pre < n, ctx, "pre: index " + std::to_string(pr.pre) + " out of range");
    require_input(pr.post >= 0 && pr.post < n, ctx, "post: index " + std::to_string(pr.post) + " out of range");
    require_input(pr.pre < pr.post, ctx, "pre/post: populations not in topological order");
    require_input(std::isfinite(pr.weight_scale), ctx, "weight_scale: not finite");
    const Population& pre = network.populations[static_cast<std::size_t>(pr.pre)];
    const Population& post = network.populations[static_cast<std::size_t>(pr.post)];
    require_input(!post.is_source(), ctx, "post: '" + post.name + "' is a spike source");
    if (const auto* d = std::get_if<DenseConnector>(&pr.connector)) {
      require_input(d->weights.rows() == pre.size() && d->weights.cols() == post.size(), ctx,
                    "weights: shape (" + std::to_string(d->weights.rows()) + ", " + std::to_string(d->weights.cols()) +
                        ") but pre has " + std::to_string(pre.size()) + " and post " + std::to_string(post.size()) +
                        " neurons");
      require_input(d->weights.allFinite(), ctx, "weights: not finite");
    } else if (const auto* c = std::get_if<ConvConnector>(&pr.connector)) {
      require_input(pre.shape.rank() == 3 && post.shape.rank() == 3, ctx, "shape: conv needs image populations");
      require_input(c->kernel_h > 0 && c->kernel_w > 0 && c->stride_h > 0 && c->stride_w > 0 && c->dilation_h > 0 &&
                        c->dilation_w > 0 && c->pad_top >= 0 && c->pad_left >= 0,
                    ctx, "kernel/stride/dilation/padding: must be positive (padding non-negative)");
      require_input(c->in_channels == pre.shape[2] && c->out_channels == post.shape[2], ctx,
                    "in_channels/out_channels: " + std::to_string(c->in_channels) + "/" +
                        std::to_string(c->out_channels) + " but pre " + pre.shape.to_string() + ", post " +
                        post.shape.to_string());
      require_input(c->kernel.rows() == static_cast<Eigen::Index>(c->kernel_h) * c->kernel_w * c->in_channels &&
                        c->kernel.cols() == c->out_channels,
                    ctx, "kernel: shape (" + std::to_string(c->kernel.rows()) + ", " + std::to_string(c->kernel.cols()) +
                             ") does not match kernel_h·kernel_w·in_channels × out_channels");
      require_input(c->kernel.allFinite(), ctx, "kernel: not finite");
    } else if (const auto* p = std::get_if<PoolConnector>(&pr.connector)) {
      require_input(pre.shape.rank() == 3 && post.shape.rank() == 3 && pre.shape[2] == post.shape[2], ctx,
                    "shape: pooling needs image populations with equal channels, got " + pre.shape.to_string() +
                        " → " + post.shape.to_string());
      require_input(p->pool_h > 0 && p->pool_w > 0 && p->stride_h > 0 && p->stride_w > 0 && p->pad_top >= 0 &&
                        p->pad_left >= 0,
                    ctx, "pool/stride/padding: must be positive (padding non-negative)");
      require_input(std::isfinite(p->weight), ctx, "weight: not finite");
    } else {
      require_input(pre.size() == post.size(), ctx,
                    "one_to_one: pre has " + std::to_string(pre.size()) + " neurons, post " + std::to_string(post.size()));
      require_input(std::isfinite(std::get<OneToOneConnector>(pr.connector).weight), ctx, "weight: not finite");
    }
    require_input(min_delay(network, pr) >= 1, ctx,
                  "tick: '" + post.name + "' can fire no later than '" + pre.name + "' (delay < 1)");
  }
  require_input(network.output >= 0 && network.output < n, context,
                "output: index " + std::to_string(network.output) + " out of range");
  const Population& out = network.populations[static_cast<std::size_t>(network.output)];
  if (network.decode.kind == Decode::Kind::NHotKey) {
    require_input(network.decode.key.cols() == out.size() && network.decode.key.rows() == network.decode.classes, context,
                  "decode/key: shape (" + std::to_string(network.decode.key.rows()) + ", " +
                      std::to_string(network.decode.key.cols()) + ") but " + std::to_string(network.decode.classes) +
                      " classes and " + std::to_string(out.size()) + " output neurons");
  } else {
    require_input(network.decode.classes >= 1 && network.decode.classes <= out.size(), context,
                  "decode/classes: " + std::to_string(network.decode.classes) + " for " + std::to_string(out.size()) +
                      " output neurons");
  }
}

}  // namespace grindstone::snn
