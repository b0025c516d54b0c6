#pragma once
// Named training recipes for `grindstone sharpen` and the rule that picks one when the user
// names none ("auto"). The values are the ones the recipe search in docs/benchmarks.md
// selected on validation data; explicit flags override any field.
#include <string>
#include <vector>

namespace grindstone::sharpen {

/// Where a recipe puts Dropout layers into an --arch specification that has none.
enum class DropoutPlacement {
  None,
  AfterEveryHidden,         ///< after each hidden Dense (its activation)
  AfterEveryHiddenButLast,  ///< after each hidden Dense except the last one
  AfterLastHidden,          ///< only before the code layer (after the last hidden Dense)
};

struct Recipe {
  std::string name;
  std::string summary;             ///< one line for --help and the log
  std::string optimizer = "adadelta";
  double learning_rate = 1.0;
  std::string schedule = "simple";  ///< simple | scheduled | adaptive
  int start_epoch = 5;             ///< simple: first epoch whose end sharpens
  int steps = 5;                   ///< simple: steps per spiking layer
  int augment_shift = 0;           ///< random shifts of up to N pixels
  int batch_size = 128;
  int max_epochs = 100;            ///< guard
  double epsilon = 1e-7;           ///< optimiser epsilon (Keras's K.epsilon() unless a script set one)
  int min_init_epochs = 10;        ///< adaptive: AdaptiveSharpener's min_init_epochs
  float dropout = 0.0f;            ///< rate inserted by regularize_spec (0 = none)
  DropoutPlacement placement = DropoutPlacement::None;
  bool batch_norm = false;         ///< regularize_spec adds `bn` (folded into the weights on save)
};

/// What the auto rule looks at.
struct RecipeContext {
  bool pretrained = false;     ///< --from
  bool convolutional = false;  ///< the network has a Conv2D layer
  bool binary_input = false;   ///< --input binary
  int spiking_layers = 1;      ///< Spiking_BRelu layers including the code layer (for --from)
};

/// Names accepted by --recipe, "auto" first.
std::vector<std::string> recipe_names();
/// --help text: each recipe's name and summary, and the auto rule.
std::string recipe_help();
/// The recipe `name` resolves to in `context` ("auto" applies the rule); InputError naming
/// --recipe for an unknown name.
Recipe choose_recipe(const std::string& name, const RecipeContext& context);

/// Whether an --arch specification contains a convolution.
bool spec_is_convolutional(const std::string& spec);
/// `spec` with the recipe's Dropout and BatchNormalization inserted, unless the user already
/// placed any (a spec with a dropout or bn item is returned unchanged). Bare numbers continuing a
/// dense list are written out as dense:N. Items are not validated here (build_from_spec does).
std::string regularize_spec(const std::string& spec, const Recipe& recipe);

}  // namespace grindstone::sharpen
