// The architectures, layer for layer as keras.applications (Keras 2.x, channels_last,
// include_top=True) names and configures them: vgg16.VGG16, resnet.ResNet50 (block1 stacks)
// and mobilenet.MobileNet (alpha 1, depth_multiplier 1, the Keras 2 top with
// GlobalAveragePooling2D → Reshape → Dropout → 1×1 Conv2D → Reshape → softmax).
#include "converter/zoo/zoo.hpp"

#include "common/error.hpp"

namespace grindstone::zoo {

namespace {

/// resnet.block1: bottleneck with a projection (1×1 conv) or identity shortcut.
std::string resnet_block(Graph& g, const std::string& x, std::int64_t filters, int stride, bool conv_shortcut,
                         const std::string& name) {
  constexpr double eps = 1.001e-5;
  std::string shortcut = x;
  if (conv_shortcut) {
    shortcut = g.conv2d(name + "_0_conv", x, 4 * filters, 1, stride, "valid", true);
    shortcut = g.batch_norm(name + "_0_bn", shortcut, eps, 3);
  }
  std::string y = g.conv2d(name + "_1_conv", x, filters, 1, stride, "valid", true);
  y = g.batch_norm(name + "_1_bn", y, eps, 3);
  y = g.activation(name + "_1_relu", y, "relu");
  y = g.conv2d(name + "_2_conv", y, filters, 3, 1, "same", true);
  y = g.batch_norm(name + "_2_bn", y, eps, 3);
  y = g.activation(name + "_2_relu", y, "relu");
  y = g.conv2d(name + "_3_conv", y, 4 * filters, 1, 1, "valid", true);
  y = g.batch_norm(name + "_3_bn", y, eps, 3);
  y = g.add(name + "_add", {shortcut, y});
  return g.activation(name + "_out", y, "relu");
}

/// resnet.stack1: one projection block (stride `stride`) then identity blocks.
std::string resnet_stack(Graph& g, std::string x, std::int64_t filters, int blocks, int stride, const std::string& name) {
  x = resnet_block(g, x, filters, stride, true, name + "_block1");
  for (int i = 2; i <= blocks; ++i) x = resnet_block(g, x, filters, 1, false, name + "_block" + std::to_string(i));
  return x;
}

/// mobilenet._depthwise_conv_block (alpha 1, depth_multiplier 1).
std::string mobilenet_block(Graph& g, std::string x, std::int64_t filters, int stride, int id) {
  const auto n = std::to_string(id);
  if (stride != 1) x = g.zero_pad("conv_pad_" + n, x, 0, 1, 0, 1);
  x = g.depthwise_conv2d("conv_dw_" + n, x, 3, stride, stride == 1 ? "same" : "valid", false);
  x = g.batch_norm("conv_dw_" + n + "_bn", x, 1e-3, -1);
  x = g.relu("conv_dw_" + n + "_relu", x, 6.0);
  x = g.conv2d("conv_pw_" + n, x, filters, 1, 1, "same", false);
  x = g.batch_norm("conv_pw_" + n + "_bn", x, 1e-3, -1);
  return g.relu("conv_pw_" + n + "_relu", x, 6.0);
}

void require_image(const Shape& input, const std::string& name) {
  require_input(input.rank() == 3 && input[0] > 0 && input[1] > 0 && input[2] > 0, "zoo " + name,
                "--input-shape: expected H,W,C with positive sizes, got " + input.to_string());
}

}  // namespace

std::vector<std::string> zoo_names() { return {"vgg16", "resnet50", "mobilenet"}; }

Graph vgg16(const Shape& input, std::int64_t classes) {
  require_image(input, "vgg16");
  Graph g("vgg16");
  std::string x = g.input("input_1", input);
  const std::pair<int, std::int64_t> blocks[] = {{2, 64}, {2, 128}, {3, 256}, {3, 512}, {3, 512}};
  int b = 1;
  for (const auto& [convs, filters] : blocks) {
    const auto block = "block" + std::to_string(b++);
    for (int c = 1; c <= convs; ++c) x = g.conv2d(block + "_conv" + std::to_string(c), x, filters, 3, 1, "same", true, "relu");
    x = g.max_pool(block + "_pool", x, 2, 2, "valid");
  }
  x = g.flatten("flatten", x);
  x = g.dense("fc1", x, 4096, "relu");
  x = g.dense("fc2", x, 4096, "relu");
  g.dense("predictions", x, classes, "softmax");
  return g;
}

Graph resnet50(const Shape& input, std::int64_t classes) {
  require_image(input, "resnet50");
  Graph g("resnet50");
  std::string x = g.input("input_1", input);
  x = g.zero_pad("conv1_pad", x, 3, 3, 3, 3);
  x = g.conv2d("conv1_conv", x, 64, 7, 2, "valid", true);
  x = g.batch_norm("conv1_bn", x, 1.001e-5, 3);
  x = g.activation("conv1_relu", x, "relu");
  x = g.zero_pad("pool1_pad", x, 1, 1, 1, 1);
  x = g.max_pool("pool1_pool", x, 3, 2, "valid");
  x = resnet_stack(g, x, 64, 3, 1, "conv2");
  x = resnet_stack(g, x, 128, 4, 2, "conv3");
  x = resnet_stack(g, x, 256, 6, 2, "conv4");
  x = resnet_stack(g, x, 512, 3, 2, "conv5");
  x = g.global_average_pool("avg_pool", x);
  g.dense("predictions", x, classes, "softmax");
  return g;
}

Graph mobilenet(const Shape& input, std::int64_t classes) {
  require_image(input, "mobilenet");
  Graph g("mobilenet_1.00_" + std::to_string(input[0]));
  std::string x = g.input("input_1", input);
  x = g.conv2d("conv1", x, 32, 3, 2, "same", false);
  x = g.batch_norm("conv1_bn", x, 1e-3, -1);
  x = g.relu("conv1_relu", x, 6.0);
  const std::pair<std::int64_t, int> blocks[] = {{64, 1},  {128, 2}, {128, 1}, {256, 2}, {256, 1},
                                                 {512, 2}, {512, 1}, {512, 1}, {512, 1}, {512, 1},
                                                 {512, 1}, {1024, 2}, {1024, 1}};
  int id = 1;
  for (const auto& [filters, stride] : blocks) x = mobilenet_block(g, x, filters, stride, id++);
  x = g.global_average_pool("global_average_pooling2d", x);
  x = g.reshape("reshape_1", x, Shape{1, 1, 1024});
  x = g.dropout("dropout", x, 1e-3);
  x = g.conv2d("conv_preds", x, classes, 1, 1, "same", true);
  x = g.reshape("reshape_2", x, Shape{classes});
  g.activation("predictions", x, "softmax");
  return g;
}

Graph build(const std::string& name, const ZooOptions& options) {
  const Shape input = options.input_shape.value_or(Shape{224, 224, 3});
  const std::int64_t classes = options.classes.value_or(1000);
  require_input(classes > 0 && classes <= (1 << 20), "zoo " + name, "--classes: " + std::to_string(classes) + " out of range");
  if (name == "vgg16") return vgg16(input, classes);
  if (name == "resnet50") return resnet50(input, classes);
  if (name == "mobilenet") return mobilenet(input, classes);
  std::string known;
  for (const auto& n : zoo_names()) known += (known.empty() ? "" : ", ") + n;
  throw InputError("zoo: NAME: unknown model '" + name + "' (known: " + known + ")");
}

}  // namespace grindstone::zoo
