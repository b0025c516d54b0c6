#pragma once
// Containment of code that cannot be trusted with hostile input (issue 11). libhdf5 1.10
// segfaults or loops forever on some damaged metadata (variable-length strings read from a
// corrupted global heap: H5Aread → H5T__conv_vlen → H5HG_read), and no check of ours can run
// before it. So every reader of a foreign or damaged HDF5 file first does the same read in a
// forked child process: a crash or a hang there becomes a one-line InputError (exit code 2) in
// the parent, which reads the file itself only after the child read it cleanly.
//
// Why a child that re-reads rather than one that sends the model back: the child needs no
// serialisation format of its own (nothing new to get wrong), and the read is deterministic, so
// a clean read in the child means a clean read in the parent (unless the file changes in
// between). The cost is one extra read; docs/reliability.md measures it.
#include <chrono>
#include <functional>
#include <string>

namespace grindstone {

/// What a contained read may take.
struct ContainmentLimits {
  /// Wall-clock limit of the child; a read that takes longer is a hang. Damaged files that
  /// loop forever do so within milliseconds; real models read in well under a second.
  std::chrono::milliseconds wall{10000};
};

/// Runs `work` in a forked child process and waits for it. Returns when `work` returned;
/// rethrows an InputError (same message), std::bad_alloc or InternalError the child threw;
/// throws InputError "<label>: corrupt or hostile file: …" when the child crashed (a signal)
/// or exceeded the limit (it is killed). `work` must not need other threads of this process.
void run_contained(const std::string& label, const std::function<void()>& work, ContainmentLimits limits = {});

}  // namespace grindstone
