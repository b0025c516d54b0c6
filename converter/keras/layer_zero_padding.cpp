// Keras ZeroPadding2D: padding is an int, a (rows, cols) pair, or ((top, bottom), (left, right)).
#include "converter/keras/layer_registry.hpp"

namespace grindstone::keras {

void register_zero_padding(LayerRegistry& registry) {
  registry["ZeroPadding2D"] = [](const LayerContext& ctx) {
    image_data_format(ctx);
    const auto& p = ctx.config.raw("padding");
    auto amount = [&](const nlohmann::json& v) -> int {
      if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > (1 << 20))
        ctx.config.unsupported("padding", p.dump());
      return static_cast<int>(v.get<std::int64_t>());
    };
    ann::ZeroPad2D pad;
    if (p.is_number_integer()) {
      pad.top = pad.bottom = pad.left = pad.right = amount(p);
    } else if (p.is_array() && p.size() == 2 && p[0].is_number_integer()) {
      pad.top = pad.bottom = amount(p[0]);
      pad.left = pad.right = amount(p[1]);
    } else if (p.is_array() && p.size() == 2 && p[0].is_array() && p[0].size() == 2 && p[1].is_array() &&
               p[1].size() == 2) {
      pad.top = amount(p[0][0]);
      pad.bottom = amount(p[0][1]);
      pad.left = amount(p[1][0]);
      pad.right = amount(p[1][1]);
    } else {
      ctx.config.unsupported("padding", p.dump());
    }
    ctx.take_weights({});
    return BuiltLayer{pad, std::nullopt, std::nullopt, std::nullopt};
  };
}

}  // namespace grindstone::keras
