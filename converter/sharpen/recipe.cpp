#include "converter/sharpen/recipe.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "common/error.hpp"

namespace grindstone::sharpen {

namespace {

Recipe dense_binary() {
  Recipe r;
  r.name = "dense-binary";
  r.summary = "Adadelta lr 2, 60 float epochs, then 30 epoch-steps per layer; 1-pixel shifts; "
              "dropout 0.05 after every hidden Dense but the last";
  r.learning_rate = 2.0;
  r.start_epoch = 60;
  r.steps = 30;
  r.augment_shift = 1;
  r.max_epochs = 400;
  r.dropout = 0.05f;
  r.placement = DropoutPlacement::AfterEveryHiddenButLast;
  return r;
}

Recipe dense_real() {
  Recipe r;
  r.name = "dense-real";
  r.summary = "Adadelta lr 2, 40 float epochs, then 20 epoch-steps per layer; dropout 0.1 after every hidden Dense";
  r.learning_rate = 2.0;
  r.start_epoch = 40;
  r.steps = 20;
  r.max_epochs = 400;
  r.dropout = 0.1f;
  r.placement = DropoutPlacement::AfterEveryHidden;
  return r;
}

Recipe conv() {
  Recipe r;
  r.name = "conv";
  r.summary = "Adadelta lr 4, 6 float epochs, then 4 epoch-steps per layer; 1-pixel shifts; BatchNormalization "
              "before every activation (folded on save); dropout 0.3 before the code layer";
  r.learning_rate = 4.0;
  r.start_epoch = 6;
  r.steps = 4;
  r.augment_shift = 1;
  r.max_epochs = 60;
  r.dropout = 0.3f;
  r.placement = DropoutPlacement::AfterLastHidden;
  r.batch_norm = true;
  return r;
}

/// Pretrained: no float epochs (the first epoch, which trains the new code layer, ends with the
/// first step) and the steps spread so that the network is fully sharpened within 19 epochs.
Recipe finetune(int spiking_layers) {
  Recipe r;
  r.name = "finetune";
  r.summary = "for --from: Adadelta lr 0.5, sharpening from the first epoch's end, max(1, 18 / layers) "
              "epoch-steps per layer (fully sharpened within 19 epochs)";
  r.learning_rate = 0.5;
  r.start_epoch = 0;
  r.steps = std::max(1, 18 / std::max(1, spiking_layers));
  r.max_epochs = 20;
  return r;
}

Recipe whetstone() {
  Recipe r;
  r.name = "whetstone";
  r.summary = "Whetstone's examples/simple_mnist.py: Adadelta lr 4, simple sharpener from epoch 5, 5 steps per layer";
  r.learning_rate = 4.0;
  r.max_epochs = 100;
  return r;
}

Recipe adaptive() {
  Recipe r;
  r.name = "adaptive";
  r.summary = "Whetstone's examples/adaptive_mnist_small.py: AdaptiveSharpener(min_init_epochs=4), "
              "Adadelta lr 4 (epsilon 1e-8), batch 32 (Keras's fit default), at most 100 epochs";
  r.learning_rate = 4.0;
  r.epsilon = 1e-8;
  r.schedule = "adaptive";
  r.batch_size = 32;
  r.min_init_epochs = 4;
  r.max_epochs = 100;
  return r;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::vector<std::string> spec_items(const std::string& spec) {
  std::vector<std::string> items;
  std::stringstream in(spec);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    items.push_back(b == std::string::npos ? std::string{} : item.substr(b, e - b + 1));
  }
  return items;
}

bool is_number(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

}  // namespace

std::vector<std::string> recipe_names() { return {"auto", "dense-binary", "dense-real", "conv", "finetune", "whetstone", "adaptive"}; }

std::string recipe_help() {
  std::ostringstream s;
  s << "--recipe (default auto) sets the training flags not given explicitly:\n"
    << "  auto          --from MODEL: finetune; an --arch with a conv item: conv; else dense-binary with\n"
    << "                --input binary, dense-real otherwise\n";
  for (const Recipe& r : {dense_binary(), dense_real(), conv(), finetune(4), whetstone(), adaptive()})
    s << "  " << r.name << std::string(14 - std::min<std::size_t>(13, r.name.size()), ' ') << r.summary << "\n";
  s << "Dropout/bn are only inserted into an --arch that has no dropout or bn item; they act in training only.\n";
  return s.str();
}

Recipe choose_recipe(const std::string& name, const RecipeContext& context) {
  const std::string n = lower(name);
  if (n == "auto") {
    if (context.pretrained) return finetune(context.spiking_layers);
    if (context.convolutional) return conv();
    return context.binary_input ? dense_binary() : dense_real();
  }
  if (n == "dense-binary") return dense_binary();
  if (n == "dense-real") return dense_real();
  if (n == "conv") return conv();
  if (n == "finetune") return finetune(context.spiking_layers);
  if (n == "whetstone") return whetstone();
  if (n == "adaptive") return adaptive();
  throw InputError("--recipe: '" + name + "' is not one of auto, dense-binary, dense-real, conv, finetune, whetstone, adaptive");
}

bool spec_is_convolutional(const std::string& spec) {
  for (const auto& item : spec_items(lower(spec)))
    if (item.rfind("conv:", 0) == 0) return true;
  return false;
}

std::string regularize_spec(const std::string& spec, const Recipe& recipe) {
  const auto items = spec_items(spec);
  for (const auto& item : items) {
    const std::string l = lower(item);
    if (l == "bn" || l.rfind("dropout", 0) == 0) return spec;
  }
  // Expand bare numbers so that dropout items can go between the Dense layers.
  std::vector<std::string> expanded;
  std::vector<std::size_t> dense_positions;
  for (const auto& item : items) {
    const std::string l = lower(item);
    const bool dense = l.rfind("dense:", 0) == 0 || (is_number(l) && !dense_positions.empty() &&
                                                     dense_positions.back() + 1 == expanded.size());
    if (dense) dense_positions.push_back(expanded.size());
    expanded.push_back(is_number(l) && dense ? "dense:" + l : item);
  }
  std::vector<std::string> out;
  std::ostringstream rate;
  rate << "dropout:" << recipe.dropout;
  for (std::size_t i = 0; i < expanded.size(); ++i) {
    out.push_back(expanded[i]);
    const auto it = std::find(dense_positions.begin(), dense_positions.end(), i);
    if (recipe.dropout <= 0.0f || it == dense_positions.end()) continue;
    const bool last = it + 1 == dense_positions.end();
    const bool put = recipe.placement == DropoutPlacement::AfterEveryHidden ||
                     (recipe.placement == DropoutPlacement::AfterEveryHiddenButLast && !last) ||
                     (recipe.placement == DropoutPlacement::AfterLastHidden && last);
    if (put) out.push_back(rate.str());
  }
  // A network without hidden Dense layers gets its code-layer dropout at the end of the list.
  if (recipe.dropout > 0.0f && recipe.placement == DropoutPlacement::AfterLastHidden && dense_positions.empty())
    out.push_back(rate.str());
  if (recipe.batch_norm) out.push_back("bn");
  std::string joined;
  for (std::size_t i = 0; i < out.size(); ++i) joined += (i ? "," : "") + out[i];
  return joined;
}

}  // namespace grindstone::sharpen
