#pragma once
// Keras model import: Keras 2 full .h5 (model_config + model_weights), Keras 2/1 weights-only
// .h5 with an architecture JSON (model.to_json()), Keras 3 legacy .h5, Keras 3 weights-only
// .weights.h5 with an architecture JSON, Keras 3 .keras zips, and Grindstone's own sharpened
// files (Keras 2 layout). The result is a validated ann::Model (channels-last tensors, fused
// activations split into "<layer>/activation" layers).
//
// Any malformed or unsupported input throws grindstone::InputError with a one-line message
// "<file>: layer '<name>' (<Class>): <field>: <problem>".
#include <filesystem>
#include <optional>

#include "common/error.hpp"
#include "converter/ann/model.hpp"

namespace grindstone::keras {

/// Root attribute that marks a file written by Grindstone's sharpen trainer (Keras 2 layout);
/// its value is the Grindstone version. Such files report format "grindstone".
inline constexpr const char* kGrindstoneMarkerAttribute = "grindstone_version";

ann::Model load_model(const std::filesystem::path& model,
                      const std::optional<std::filesystem::path>& architecture_json = {});

/// load_model without the containment (common/contained.hpp): reads in this process, so a
/// libhdf5 crash on a hostile file crashes the caller. For the contained child and the fuzz
/// harnesses (fuzz/), which must see crashes.
ann::Model load_model_in_process(const std::filesystem::path& model,
                                 const std::optional<std::filesystem::path>& architecture_json = {});

}  // namespace grindstone::keras
