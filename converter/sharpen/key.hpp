#pragma once
// Whetstone's output code ("key") for Softmax_Decode.
#include <cstdint>

#include "converter/ann/model.hpp"

namespace grindstone::sharpen {

/// Whetstone's key_generator(num_classes, width, overlapping): each class gets width/num_classes
/// distinct positions set to 1, chosen uniformly without replacement; with overlapping = false the
/// chosen positions leave the pool, so the codes are disjoint. Whetstone's choice is unseeded;
/// ours comes from `seed` (counter-based), and the key is stored in the saved model.
/// Throws InputError when width < num_classes (a class would get no position).
ann::Matrix generate_key(int num_classes, int width, bool overlapping, std::uint64_t seed);

}  // namespace grindstone::sharpen
