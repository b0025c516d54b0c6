#pragma once
// The IDX file format (MNIST): big-endian magic 0x0000 <type> <rank>, then `rank` big-endian
// uint32 dimensions, then the data. Plain or gzip-compressed.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace grindstone::datasets {

struct IdxArray {
  std::vector<std::int64_t> dims;  ///< as the header states them (dims[0] = items in the file)
  std::int64_t items = 0;          ///< items actually read along dimension 0 (≤ dims[0] with max_items)
  std::vector<std::uint8_t> data;  ///< unsigned-byte (type 0x08) arrays only; items · (product of dims[1..])
};

/// Reads an unsigned-byte IDX file (".gz" → gunzip). Validates the magic, the rank, the
/// dimensions (positive, product ≤ 2^31) and that the file holds exactly the bytes the header
/// claims; `max_items` > 0 keeps only the first items along dimension 0 (the rest of the file
/// is still checked for length). `expected_rank` > 0 also requires that rank (3 for images,
/// 1 for labels: magic 0x00000803 / 0x00000801). Throws InputError "<file>: <field>: …" on any
/// violation; never over-reads and never allocates more than the file actually holds.
IdxArray read_idx(const std::filesystem::path& path, std::int64_t max_items = 0, int expected_rank = 0);

/// Reads a whole file, decompressing gzip when the name ends in ".gz". Throws InputError.
std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path);

}  // namespace grindstone::datasets
