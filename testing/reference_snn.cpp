#include "testing/reference_snn.hpp"

#include "common/error.hpp"

namespace grindstone::passes::testing {

std::vector<std::vector<std::uint8_t>> reference_spikes(const snn::Network& net, const std::uint8_t* image) {
  std::vector<std::vector<std::uint8_t>> spikes(net.populations.size());
  std::vector<std::vector<double>> potential(net.populations.size());
  for (std::size_t p = 0; p < net.populations.size(); ++p)
    potential[p].assign(static_cast<std::size_t>(net.populations[p].size()), 0.0);
  for (std::size_t p = 0; p < net.populations.size(); ++p) {
    const auto& pop = net.populations[p];
    auto& out = spikes[p];
    out.assign(static_cast<std::size_t>(pop.size()), 0);
    if (pop.role == snn::PopulationRole::Input) {
      for (std::int64_t i = 0; i < pop.size(); ++i) {
        const std::uint8_t px = image[i];
        out[static_cast<std::size_t>(i)] = pop.input_bit >= 0 ? ((px >> pop.input_bit) & 1) : (px >= 128 ? 1 : 0);
      }
    } else if (pop.is_source()) {
      out.assign(out.size(), 1);  // the bias start source fires every sample
    } else {
      for (std::int64_t i = 0; i < pop.size(); ++i)
        out[static_cast<std::size_t>(i)] =
            potential[p][static_cast<std::size_t>(i)] >= pop.threshold[static_cast<std::size_t>(i)] ? 1 : 0;
    }
    // Deliver this population's spikes along every outgoing projection.
    for (const auto& pr : net.projections) {
      if (pr.pre != static_cast<int>(p)) continue;
      auto& target = potential[static_cast<std::size_t>(pr.post)];
      const auto& post = net.populations[static_cast<std::size_t>(pr.post)];
      const double scale = pr.weight_scale;
      if (const auto* d = std::get_if<snn::DenseConnector>(&pr.connector)) {
        for (std::int64_t j = 0; j < pop.size(); ++j)
          if (out[static_cast<std::size_t>(j)])
            for (std::int64_t i = 0; i < post.size(); ++i)
              target[static_cast<std::size_t>(i)] += scale * d->weights(j, i);
      } else if (const auto* c = std::get_if<snn::ConvConnector>(&pr.connector)) {
        const auto H = pop.shape[0], W = pop.shape[1], C = pop.shape[2];
        const auto OH = post.shape[0], OW = post.shape[1];
        for (std::int64_t y = 0; y < OH; ++y)
          for (std::int64_t x = 0; x < OW; ++x)
            for (int i = 0; i < c->kernel_h; ++i)
              for (int j = 0; j < c->kernel_w; ++j) {
                const auto py = y * c->stride_h - c->pad_top + i * c->dilation_h;
                const auto px = x * c->stride_w - c->pad_left + j * c->dilation_w;
                if (py < 0 || py >= H || px < 0 || px >= W) continue;
                for (std::int64_t ch = 0; ch < C; ++ch) {
                  if (!out[static_cast<std::size_t>((py * W + px) * C + ch)]) continue;
                  for (int o = 0; o < c->out_channels; ++o)
                    target[static_cast<std::size_t>((y * OW + x) * c->out_channels + o)] +=
                        scale * c->kernel((i * c->kernel_w + j) * c->in_channels + ch, o);
                }
              }
      } else if (const auto* pl = std::get_if<snn::PoolConnector>(&pr.connector)) {
        const auto H = pop.shape[0], W = pop.shape[1], C = pop.shape[2];
        const auto OH = post.shape[0], OW = post.shape[1];
        for (std::int64_t y = 0; y < OH; ++y)
          for (std::int64_t x = 0; x < OW; ++x)
            for (int i = 0; i < pl->pool_h; ++i)
              for (int j = 0; j < pl->pool_w; ++j) {
                const auto py = y * pl->stride_h - pl->pad_top + i;
                const auto px = x * pl->stride_w - pl->pad_left + j;
                if (py < 0 || py >= H || px < 0 || px >= W) continue;
                for (std::int64_t ch = 0; ch < C; ++ch)
                  if (out[static_cast<std::size_t>((py * W + px) * C + ch)])
                    target[static_cast<std::size_t>((y * OW + x) * C + ch)] += scale * pl->weight;
              }
      } else {
        const auto& o = std::get<snn::OneToOneConnector>(pr.connector);
        for (std::int64_t i = 0; i < pop.size(); ++i)
          if (out[static_cast<std::size_t>(i)]) target[static_cast<std::size_t>(i)] += scale * o.weight;
      }
    }
  }
  return spikes;
}

int reference_class(const snn::Network& net, const std::vector<std::vector<std::uint8_t>>& spikes) {
  const auto& out = spikes.at(static_cast<std::size_t>(net.output));
  int best = 0;
  double best_score = -1e300;
  for (int c = 0; c < net.decode.classes; ++c) {
    double score = 0;
    if (net.decode.kind == snn::Decode::Kind::NHotKey) {
      for (std::size_t j = 0; j < out.size(); ++j)
        score += (2.0 * out[j] - 1.0) * (2.0 * net.decode.key(c, static_cast<Eigen::Index>(j)) - 1.0);
    } else {
      score = out[static_cast<std::size_t>(c)];
    }
    if (score > best_score) {
      best_score = score;
      best = c;
    }
  }
  return best;
}

}  // namespace grindstone::passes::testing
