// Keras MaxPooling2D, AveragePooling2D (strides default to pool_size), GlobalAveragePooling2D
// and GlobalMaxPooling2D.
#include "converter/keras/layer_registry.hpp"

namespace grindstone::keras {

namespace {

BuiltLayer make_pool(const LayerContext& ctx, ann::PoolKind kind) {
  image_data_format(ctx);
  ann::Pool2D pool;
  pool.kind = kind;
  std::tie(pool.pool_h, pool.pool_w) = ctx.config.int_pair("pool_size", std::pair{2, 2});
  std::tie(pool.stride_h, pool.stride_w) = ctx.config.int_pair("strides", std::pair{pool.pool_h, pool.pool_w});
  pool.padding = parse_padding(ctx);
  ctx.take_weights({});
  return BuiltLayer{pool, std::nullopt, std::nullopt, std::nullopt};
}

}  // namespace

void register_pooling(LayerRegistry& registry) {
  registry["MaxPooling2D"] = [](const LayerContext& ctx) { return make_pool(ctx, ann::PoolKind::Max); };
  registry["MaxPool2D"] = registry["MaxPooling2D"];
  registry["AveragePooling2D"] = [](const LayerContext& ctx) { return make_pool(ctx, ann::PoolKind::Average); };
  registry["AvgPool2D"] = registry["AveragePooling2D"];
  registry["GlobalAveragePooling2D"] = [](const LayerContext& ctx) {
    image_data_format(ctx);
    if (ctx.config.boolean("keepdims", false)) ctx.config.unsupported("keepdims", "true");
    ctx.take_weights({});
    return BuiltLayer{ann::GlobalAveragePool2D{}, std::nullopt, std::nullopt, false};
  };
  registry["GlobalAvgPool2D"] = registry["GlobalAveragePooling2D"];
  registry["GlobalMaxPooling2D"] = [](const LayerContext& ctx) {
    image_data_format(ctx);
    if (ctx.config.boolean("keepdims", false)) ctx.config.unsupported("keepdims", "true");
    ctx.take_weights({});
    return BuiltLayer{ann::GlobalMaxPool2D{}, std::nullopt, std::nullopt, false};
  };
  registry["GlobalMaxPool2D"] = registry["GlobalMaxPooling2D"];
}

}  // namespace grindstone::keras
