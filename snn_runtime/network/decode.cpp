#include "snn_runtime/network/decode.hpp"

#include <algorithm>
#include <bit>

#include "common/error.hpp"

namespace grindstone::snn {

void check_decode(const Decode& decode, std::int64_t output_size, const std::string& context) {
  require_input(decode.classes >= 1, context, "decode/classes: " + std::to_string(decode.classes) + " < 1");
  if (decode.kind == Decode::Kind::NHotKey) {
    require_input(decode.key.rows() == decode.classes && decode.key.cols() == output_size, context,
                  "decode/key: shape (" + std::to_string(decode.key.rows()) + ", " + std::to_string(decode.key.cols()) +
                      ") but " + std::to_string(decode.classes) + " classes and " + std::to_string(output_size) +
                      " output neurons");
  } else {
    require_input(decode.classes <= output_size, context,
                  "decode/classes: " + std::to_string(decode.classes) + " classes but only " +
                      std::to_string(output_size) + " output neurons");
  }
}

Decoder::Decoder(const Decode& decode, std::int64_t output_size, const std::string& context)
    : kind_(decode.kind),
      classes_(decode.classes),
      output_size_(output_size),
      tie_break_by_potential_(decode.tie_break_by_potential) {
  check_decode(decode, output_size, context);
  if (kind_ == Decode::Kind::NHotKey) {
    key_sign_.resize(static_cast<std::size_t>(classes_ * output_size_));
    for (int c = 0; c < classes_; ++c)
      for (std::int64_t j = 0; j < output_size_; ++j)
        key_sign_[static_cast<std::size_t>(c * output_size_ + j)] = decode.key(c, j) >= 0.5f ? 1 : -1;
    const std::int64_t words = (output_size_ + 63) / 64;
    key_bits_.assign(static_cast<std::size_t>(classes_ * words), 0);
    for (int c = 0; c < classes_; ++c)
      for (std::int64_t j = 0; j < output_size_; ++j)
        if (decode.key(c, j) >= 0.5f) key_bits_[static_cast<std::size_t>(c * words + j / 64)] |= std::uint64_t{1} << (j % 64);
  }
}

int Decoder::decode_words(std::span<const std::uint64_t> words) const {
  const auto n = static_cast<std::int64_t>(words.size());
  if (n != (output_size_ + 63) / 64)
    throw InternalError("Decoder: " + std::to_string(n) + " words for " + std::to_string(output_size_) + " outputs");
  if (kind_ == Decode::Kind::NHotKey) {
    int best = 0;
    std::int64_t best_distance = 0;
    for (int c = 0; c < classes_; ++c) {
      const std::uint64_t* key = key_bits_.data() + c * n;
      std::int64_t distance = 0;
      for (std::int64_t w = 0; w < n; ++w) distance += std::popcount(words[static_cast<std::size_t>(w)] ^ key[w]);
      if (c == 0 || distance < best_distance) {  // strict: ties keep the lowest class
        best = c;
        best_distance = distance;
      }
    }
    return best;
  }
  // Spike counts of 0/1: the lowest fired class neuron, else class 0 (as decode_bits).
  for (std::int64_t w = 0; w < n; ++w)
    if (const std::uint64_t x = words[static_cast<std::size_t>(w)]; x != 0) {
      const std::int64_t j = w * 64 + std::countr_zero(x);
      return j < classes_ ? static_cast<int>(j) : 0;
    }
  return 0;
}

void Decoder::scores(std::span<const std::uint8_t> fired, std::int32_t* out) const {
  if (static_cast<std::int64_t>(fired.size()) != output_size_)
    throw InternalError("Decoder: " + std::to_string(fired.size()) + " outputs for " + std::to_string(output_size_));
  if (kind_ == Decode::Kind::NHotKey) {
    const auto s = nhot_scores(fired);
    std::copy(s.begin(), s.end(), out);
    return;
  }
  for (int c = 0; c < classes_; ++c) out[c] = fired[static_cast<std::size_t>(c)] ? 1 : 0;
}

void Decoder::scores_words(std::span<const std::uint64_t> words, std::int32_t* out) const {
  const auto n = static_cast<std::int64_t>(words.size());
  if (n != (output_size_ + 63) / 64)
    throw InternalError("Decoder: " + std::to_string(n) + " words for " + std::to_string(output_size_) + " outputs");
  for (int c = 0; c < classes_; ++c) {
    if (kind_ == Decode::Kind::NHotKey) {
      std::int64_t distance = 0;
      for (std::int64_t w = 0; w < n; ++w)
        distance += std::popcount(words[static_cast<std::size_t>(w)] ^ key_bits_[static_cast<std::size_t>(c * n + w)]);
      out[c] = static_cast<std::int32_t>(output_size_ - 2 * distance);
    } else {
      out[c] = static_cast<std::int32_t>((words[static_cast<std::size_t>(c / 64)] >> (c % 64)) & 1);
    }
  }
}

std::vector<std::int32_t> Decoder::nhot_scores(std::span<const std::uint8_t> fired) const {
  if (static_cast<std::int64_t>(fired.size()) != output_size_)
    throw InternalError("Decoder: " + std::to_string(fired.size()) + " outputs for " + std::to_string(output_size_));
  std::vector<std::int32_t> scores(static_cast<std::size_t>(classes_), 0);
  if (kind_ != Decode::Kind::NHotKey) return scores;
  for (int c = 0; c < classes_; ++c) {
    const std::int8_t* key = key_sign_.data() + c * output_size_;
    std::int32_t score = 0;
    for (std::int64_t j = 0; j < output_size_; ++j) score += (fired[static_cast<std::size_t>(j)] ? 1 : -1) * key[j];
    scores[static_cast<std::size_t>(c)] = score;
  }
  return scores;
}

int Decoder::decode_bits(std::span<const std::uint8_t> fired) const {
  if (static_cast<std::int64_t>(fired.size()) != output_size_)
    throw InternalError("Decoder: " + std::to_string(fired.size()) + " outputs for " + std::to_string(output_size_));
  if (kind_ == Decode::Kind::NHotKey) {
    // Scored in place (no allocation: engines call this once per sample).
    int best = 0;
    std::int32_t best_score = 0;
    for (int c = 0; c < classes_; ++c) {
      const std::int8_t* key = key_sign_.data() + c * output_size_;
      std::int32_t score = 0;
      for (std::int64_t j = 0; j < output_size_; ++j) score += (fired[static_cast<std::size_t>(j)] ? 1 : -1) * key[j];
      if (c == 0 || score > best_score) {  // strict > keeps the lowest index on ties
        best = c;
        best_score = score;
      }
    }
    return best;
  }
  int best = 0;
  for (int c = 1; c < classes_; ++c)
    if (fired[static_cast<std::size_t>(c)] > fired[static_cast<std::size_t>(best)]) best = c;
  return best;
}

int Decoder::decode(std::span<const std::int32_t> spike_counts, std::span<const float> potentials) const {
  if (static_cast<std::int64_t>(spike_counts.size()) != output_size_)
    throw InternalError("Decoder: " + std::to_string(spike_counts.size()) + " outputs for " + std::to_string(output_size_));
  if (kind_ == Decode::Kind::NHotKey) {
    std::vector<std::uint8_t> fired(spike_counts.size());
    for (std::size_t j = 0; j < fired.size(); ++j) fired[j] = spike_counts[j] > 0 ? 1 : 0;
    return decode_bits(fired);
  }
  const bool use_potential = tie_break_by_potential_ && potentials.size() == spike_counts.size();
  int best = 0;
  for (int c = 1; c < classes_; ++c) {
    const auto i = static_cast<std::size_t>(c), b = static_cast<std::size_t>(best);
    if (spike_counts[i] > spike_counts[b] ||
        (use_potential && spike_counts[i] == spike_counts[b] && potentials[i] > potentials[b]))
      best = c;
  }
  return best;
}

int decode_class(const Decode& decode, std::span<const std::int32_t> spike_counts, std::span<const float> potentials) {
  return Decoder(decode, static_cast<std::int64_t>(spike_counts.size()), "decode").decode(spike_counts, potentials);
}

}  // namespace grindstone::snn
