// SpiNNaker 2 hardware model: MAC array functional model against plain reference loops, its
// cycle model, write-out arithmetic, NoC, DRAM and energy.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "common/random.hpp"
#include "hw_model/spinnaker2/chip.hpp"
#include "hw_model/spinnaker2/mac_array.hpp"

using namespace grindstone::hw::s2;

namespace {

template <class T>
std::vector<T> random_values(std::size_t count, std::int64_t lo, std::int64_t hi, std::uint64_t stream) {
  std::vector<T> v(count);
  for (std::size_t i = 0; i < count; ++i)
    v[i] = static_cast<T>(lo + static_cast<std::int64_t>(grindstone::random_bits(7, stream, i) %
                                                        static_cast<std::uint64_t>(hi - lo + 1)));
  return v;
}

// The reference: textbook triple loop in int64, no zero gating, no wrap.
template <class A, class B>
std::vector<std::int64_t> reference_matmul(const std::vector<A>& a, const std::vector<B>& b, MatmulShape s) {
  std::vector<std::int64_t> c(static_cast<std::size_t>(s.m * s.n), 0);
  for (std::int64_t i = 0; i < s.m; ++i)
    for (std::int64_t j = 0; j < s.n; ++j) {
      std::int64_t sum = 0;
      for (std::int64_t kk = 0; kk < s.k; ++kk) sum += std::int64_t{a[i * s.k + kk]} * b[kk * s.n + j];
      c[static_cast<std::size_t>(i * s.n + j)] = sum;
    }
  return c;
}

}  // namespace

TEST_CASE("MAC array matmul is bit-identical to a reference int8 product (random operands)") {
  MacArray mac;
  for (MatmulShape s : {MatmulShape{1, 784, 256}, MatmulShape{4, 256, 64}, MatmulShape{7, 33, 19}, MatmulShape{5, 1, 1}}) {
    const auto a = random_values<std::int8_t>(static_cast<std::size_t>(s.m * s.k), -128, 127, 1);
    const auto b = random_values<std::int8_t>(static_cast<std::size_t>(s.k * s.n), -128, 127, 2);
    std::vector<std::int32_t> acc(static_cast<std::size_t>(s.m * s.n));
    mac.matmul<std::int8_t, std::int8_t>(a, b, s, acc);
    const auto ref = reference_matmul(a, b, s);
    for (std::size_t i = 0; i < acc.size(); ++i) REQUIRE(acc[i] == ref[i]);
    // unsigned inputs (binary spikes, pixels)
    const auto u = random_values<std::uint8_t>(static_cast<std::size_t>(s.m * s.k), 0, 255, 3);
    mac.matmul<std::uint8_t, std::int8_t>(u, b, s, acc);
    const auto ref_u = reference_matmul(u, b, s);
    for (std::size_t i = 0; i < acc.size(); ++i) REQUIRE(acc[i] == ref_u[i]);
  }
  CHECK(mac.stats().accumulator_overflows == 0);
  CHECK(mac.stats().invocations == 8);
}

TEST_CASE("16-bit mode: exact, a quarter of the MACs per cycle, and the accumulator wraps at 29 bits") {
  MacArray mac;
  const MatmulShape s{3, 50, 21};
  const auto a = random_values<std::uint8_t>(static_cast<std::size_t>(s.m * s.k), 0, 1, 4);
  const auto b = random_values<std::int16_t>(static_cast<std::size_t>(s.k * s.n), -4095, 4095, 5);
  std::vector<std::int32_t> acc(static_cast<std::size_t>(s.m * s.n));
  mac.matmul<std::uint8_t, std::int16_t>(a, b, s, acc);
  const auto ref = reference_matmul(a, b, s);
  for (std::size_t i = 0; i < acc.size(); ++i) REQUIRE(acc[i] == ref[i]);
  CHECK(mac.macs_per_cycle(OperandWidth::Bits16) == 16);

  // 64 products of 32767·32767 ≈ 2^36 cannot fit 29 bits: the result is the sum modulo 2^29.
  const MatmulShape big{1, 64, 1};
  const std::vector<std::int16_t> x(64, 32767);
  std::vector<std::int32_t> out(1);
  mac.matmul<std::int16_t, std::int16_t>(x, x, big, out);
  const std::int64_t exact = 64LL * 32767 * 32767;
  std::int64_t wrapped = exact & ((1LL << 29) - 1);
  if (wrapped >= (1LL << 28)) wrapped -= (1LL << 29);
  CHECK(out[0] == wrapped);
  CHECK(mac.stats().accumulator_overflows == 1);
}

TEST_CASE("conv2d mode equals the im2col matrix product") {
  MacArray mac;
  Conv2dGeometry g;
  g.in_h = 9; g.in_w = 8; g.in_channels = 3; g.out_channels = 5; g.kernel_h = 3; g.kernel_w = 2;
  g.stride_h = 2; g.stride_w = 1; g.pad_top = 1; g.pad_left = 1;
  g.out_h = (g.in_h + 2 - 3) / 2 + 1; g.out_w = (g.in_w + 1 - 2) / 1 + 1;
  const auto img = random_values<std::uint8_t>(static_cast<std::size_t>(g.in_h * g.in_w * g.in_channels), 0, 1, 6);
  const MatmulShape s = g.as_matmul();
  const auto kernel = random_values<std::int8_t>(static_cast<std::size_t>(s.k * s.n), -128, 127, 7);
  std::vector<std::uint8_t> cols(static_cast<std::size_t>(s.m * s.k), 0);  // im2col, zero outside
  for (std::int64_t oy = 0; oy < g.out_h; ++oy)
    for (std::int64_t ox = 0; ox < g.out_w; ++ox)
      for (std::int64_t i = 0; i < g.kernel_h; ++i)
        for (std::int64_t j = 0; j < g.kernel_w; ++j)
          for (std::int64_t c = 0; c < g.in_channels; ++c) {
            const std::int64_t y = oy * g.stride_h - g.pad_top + i, x = ox * g.stride_w - g.pad_left + j;
            if (y < 0 || y >= g.in_h || x < 0 || x >= g.in_w) continue;
            cols[static_cast<std::size_t>((oy * g.out_w + ox) * s.k + (i * g.kernel_w + j) * g.in_channels + c)] =
                img[static_cast<std::size_t>((y * g.in_w + x) * g.in_channels + c)];
          }
  const auto ref = reference_matmul(cols, kernel, s);
  std::vector<std::int32_t> acc(static_cast<std::size_t>(s.m * s.n));
  mac.conv2d<std::uint8_t, std::int8_t>(img, kernel, g, acc);
  for (std::size_t i = 0; i < acc.size(); ++i) REQUIRE(acc[i] == ref[i]);
}

TEST_CASE("write-out: binary threshold, ReLU and int8 requantisation") {
  WriteOut binary;
  binary.relu = true; binary.clamp_min = 0; binary.clamp_max = 1;
  // fire iff acc ≥ 37: bias = 1 − 37
  CHECK(apply_write_out(37, -36, binary) == 1);
  CHECK(apply_write_out(36, -36, binary) == 0);
  CHECK(apply_write_out(1000, -36, binary) == 1);
  CHECK(apply_write_out(-5, -36, binary) == 0);
  WriteOut requant;
  requant.multiplier = 3; requant.shift = 4; requant.relu = true;
  CHECK(apply_write_out(100, 0, requant) == 19);   // 300/16 = 18.75 → 19
  CHECK(apply_write_out(-100, 0, requant) == 0);   // ReLU
  CHECK(apply_write_out(5000, 0, requant) == 127);  // clamp
  requant.relu = false;
  CHECK(apply_write_out(-5000, 0, requant) == -128);
  MacArray mac;
  std::vector<std::int32_t> acc{10, 40}, out(2);
  binary.bias = {-36, -36};
  mac.write_out(acc, MatmulShape{1, 1, 2}, binary, out);
  CHECK(out == std::vector<std::int32_t>{0, 1});
  CHECK(mac.stats().writeout_cycles == 1);
}

TEST_CASE("cycle model: blocks of 4 rows × 16 columns, one k step per cycle") {
  MacArray mac;
  const auto p = mac.params();
  // 4×784 · 784×256: 1·16 blocks of 784 + pipeline cycles, plus set-up and a 1024-byte write-out
  const Cycles c = mac.matmul_cycles({4, 784, 256}, OperandWidth::Bits8, 1);
  CHECK(c.count == p.invocation_overhead_cycles.count + 16 * (784 + p.block_pipeline_cycles.count) + 1024 / 16);
  // a single row uses a quarter of the array: same cycles as 4 rows
  CHECK(mac.matmul_cycles({1, 784, 256}, OperandWidth::Bits8, 1).count <= c.count);
  // 16-bit mode has 4 columns per block: 4× the blocks
  const Cycles w = mac.matmul_cycles({4, 784, 256}, OperandWidth::Bits16, 1);
  CHECK(w.count == p.invocation_overhead_cycles.count + 64 * (784 + p.block_pipeline_cycles.count) + 1024 / 16);
  mac.account({4, 784, 256}, OperandWidth::Bits8, 1);
  CHECK(mac.stats().utilisation() == doctest::Approx(4.0 * 784 * 256 / (64.0 * (16 * (784 + 3) + 20))));
}

TEST_CASE("NoC hops, DRAM time and energy") {
  Noc noc;
  CHECK(noc.hops(0, 0) == 0);
  CHECK(noc.hops(0, 8) == 2);  // (0,0) → (1,1) on a 7-wide mesh
  const NocCycles t = noc.transfer(0, 8, 240);  // 10 flits of 24 bytes
  CHECK(t.count == 2 * noc.params().cycles_per_hop.count + 10);
  CHECK(noc.stats().byte_hops == 480);
  Dram dram;
  const Seconds s = dram.read(6'400'000);
  CHECK(s.value == doctest::Approx(1e-3 + dram.params().latency.value));
  CHECK(dram.stats().bytes_read == 6'400'000);
  ChipParams chip;
  CHECK(chip.qpes() == 38);
  CHECK(chip.peak_macs_per_second() == doctest::Approx(152.0 * 64 * 300e6));
  Activity a;
  a.mac_slots = 1'900'000'000'000;  // 3.8e12 ops → 1 J at 3.8 TOPS/W
  const auto e = energy(chip.energy, a);
  CHECK(e.mac_joules == doctest::Approx(1.0));
  CHECK(e.total() == doctest::Approx(1.0));
}

TEST_CASE("MAC model against the seed's 4.6 TOPS @ 3.8 TOPS/W (issue 14 item 4)") {
  // The seed quotes 4.6 TOPS at 3.8 TOPS/W "(Jib1 prototype measurement)". Jib1 has 8 PEs at
  // 500 MHz (FAQ), 0.51 TOPS peak, so 4.6 TOPS must be a full 152-PE chip. ASSUMPTION: at the
  // 0.5 V / 250 MHz DVFS point (eeNews), whose peak is 4.86 TOPS; a measured chip-level int8
  // TOPS figure with its clock would settle it.
  ChipParams chip;
  chip.clock.hz = 250e6;
  MacArray mac(chip.pe.mac);
  // The best tile one PE holds: a 4×16 output block over the longest reduction whose int8
  // weights (k × 16) and inputs (4 × k) fit the usable SRAM.
  const std::int64_t k = chip.pe.usable_sram_bytes() / (16 + 4);
  const MatmulShape tile{4, k, 16};
  const Cycles c = mac.matmul_cycles(tile, OperandWidth::Bits8, 1);
  const double macs_per_cycle = static_cast<double>(tile.m * tile.k * tile.n) / static_cast<double>(c.count);
  const double sustained_ops = 2.0 * macs_per_cycle * chip.pes * chip.clock.hz;
  const double peak_ops = 2.0 * chip.peak_macs_per_second();
  MESSAGE("k " << k << ": " << macs_per_cycle << " MAC/cycle; chip at 250 MHz: peak " << peak_ops / 1e12
                << " TOPS, sustained " << sustained_ops / 1e12 << " TOPS; seed 4.6 TOPS = " << 4.6e12 / peak_ops
                << " of peak");
  CHECK(sustained_ops <= peak_ops);
  CHECK(sustained_ops == doctest::Approx(4.6e12).epsilon(0.10));
  // One second with every MAC array busy: the energy model charges busy slots (idle lanes of a
  // busy array included), so useful ops per joule come out just under the quoted 3.8 TOPS/W.
  Activity a;
  a.mac_slots = static_cast<std::int64_t>(chip.peak_macs_per_second());
  const double watts = energy(chip.energy, a).mac_joules;
  MESSAGE("MAC power with all arrays busy: " << watts << " W; useful " << sustained_ops / 1e12 / watts << " TOPS/W");
  CHECK(peak_ops / watts == doctest::Approx(3.8e12));
  CHECK(sustained_ops / watts < 3.8e12);
  CHECK(sustained_ops / watts > 0.95 * 3.8e12);
}
