// The auto rule that picks a recipe and the Dropout/BatchNormalization it inserts into --arch.
#include <doctest/doctest.h>

#include "common/error.hpp"
#include "converter/sharpen/architecture.hpp"
#include "converter/sharpen/recipe.hpp"

using namespace grindstone;
using namespace grindstone::sharpen;

TEST_CASE("auto recipe: --from → finetune, conv → conv, dense → by input encoding") {
  RecipeContext c;
  CHECK(choose_recipe("auto", c).name == "dense-real");
  c.binary_input = true;
  CHECK(choose_recipe("auto", c).name == "dense-binary");
  c.convolutional = true;
  CHECK(choose_recipe("auto", c).name == "conv");
  c.pretrained = true;
  c.spiking_layers = 4;
  const Recipe f = choose_recipe("AUTO", c);
  CHECK(f.name == "finetune");
  CHECK(f.start_epoch == 0);  // no float epochs for a trained model
  CHECK(f.steps == 4);
  // Fully sharpened at the end of epoch start + steps·layers − 1, i.e. within 20 epochs.
  CHECK(f.start_epoch + f.steps * c.spiking_layers <= 19);
  c.spiking_layers = 30;
  CHECK(choose_recipe("finetune", c).steps == 1);
  CHECK(choose_recipe("whetstone", c).learning_rate == 4.0);
  const Recipe a = choose_recipe("adaptive", c);
  CHECK(a.schedule == "adaptive");
  CHECK(a.min_init_epochs == 4);
  CHECK(a.batch_size == 32);
  CHECK_THROWS_AS(choose_recipe("fast", c), InputError);
}

TEST_CASE("regularize_spec inserts the recipe's dropout and bn, never into a spec that has its own") {
  RecipeContext c;
  const Recipe real = choose_recipe("dense-real", c);
  CHECK(regularize_spec("dense:256,64", real) == "dense:256,dropout:0.1,dense:64,dropout:0.1");
  const Recipe binary = choose_recipe("dense-binary", c);
  CHECK(regularize_spec("dense:100,100", binary) == "dense:100,dropout:0.05,dense:100");
  CHECK(regularize_spec("dense:100", binary) == "dense:100");
  const Recipe conv = choose_recipe("conv", c);
  CHECK(regularize_spec("conv:32x5,pool:2,conv:64x5,pool:2,dense:500", conv) ==
        "conv:32x5,pool:2,conv:64x5,pool:2,dense:500,dropout:0.3,bn");
  CHECK(regularize_spec("conv:8x3,pool:2", conv) == "conv:8x3,pool:2,dropout:0.3,bn");
  CHECK(spec_is_convolutional("Conv:8x3,dense:10"));
  CHECK_FALSE(spec_is_convolutional("dense:10,20"));
  // The user's own regularisation wins.
  CHECK(regularize_spec("dense:256,dropout:0.2,64", real) == "dense:256,dropout:0.2,64");
  CHECK(regularize_spec("dense:256,64,bn", real) == "dense:256,64,bn");
  CHECK(regularize_spec("dense:256,64", choose_recipe("whetstone", c)) == "dense:256,dense:64");
  // Every rewritten spec still parses and keeps the spiking layers.
  BuildOptions options;
  CHECK(build_from_spec(regularize_spec("conv:32x5,pool:2,conv:64x5,pool:2,dense:500", conv), options)
            .spiking_layers()
            .size() == 4);
  CHECK(build_from_spec(regularize_spec("dense:256,64", real), options).spiking_layers().size() == 3);
}
