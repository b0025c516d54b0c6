#pragma once
// The PE hierarchy the seed's distributor maps tasks onto: QPE = 4 PEs (one NoC router),
// QPE block = 4 QPEs, double QPE block = 2 blocks. A multicast of input rows is injected once
// per block it reaches; paired PEs exchange weight slices ("paired PE shift").
// Source: Kelber et al., NICE 2021 (seed 000_9273486a794bc3be) [V] "QuadPE (QPE) = 4x PEs,
// QPE Block (QB) = 4x QPE, Double QPE Block (DQB) = 2x QPE block". The QPE size itself is
// ChipParams::pes_per_qpe (one home).
namespace grindstone::hw::s2 {

struct HierarchyParams {
  /// QPEs per QPE block. Source: seed [V] 4.
  int qpes_per_block = 4;
  /// QPE blocks per double QPE block. Source: seed [V] 2.
  int blocks_per_double_block = 2;
  /// PEs per weight-migration pair. Source: seed [V] "paired PE shift" (pairs of PEs).
  int pes_per_pair = 2;
  /// Mean NoC hops of a transfer inside a QPE block (for NoC energy). ASSUMPTION: 2 (a block is
  /// 4 neighbouring QPEs; the die floor plan is not in our sources — a NoC trace would settle it).
  double mean_hops_in_block = 2.0;
};

}  // namespace grindstone::hw::s2
