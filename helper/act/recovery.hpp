// SPDX-License-Identifier: MIT
#pragma once

// Carrying out one method's plan and verifying the device came back: the part `reset` and
// `handle` share.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "act/executor.hpp"
#include "act/methods.hpp"
#include "snapshot/snapshot.hpp"
#include "snapshot/snapshot_reader.hpp"

namespace usbrecover {

struct RecoveryRoots {
  std::string sysfs = "/sys";
  std::string dev = "/dev";
  std::string state_dir;
};

struct RecoveryOutcome {
  RunReport run;                   ///< what the executor did
  std::optional<UsbDevice> after;  ///< the device as it came back, when verified
  std::optional<Error> error;      ///< why it failed, left-off actions named
  [[nodiscard]] bool verified() const { return after.has_value(); }
};

/// Runs `plan` on the snapshot's device through the real effects, with intents, then waits
/// (udev events, no sleeps) until the same device is back or `deadline`/`stop` says to give up.
RecoveryOutcome carry_out(const Snapshot& snap, const Plan& plan, SnapshotReader& reader,
                          const RecoveryRoots& roots, std::chrono::steady_clock::time_point deadline,
                          const StopCheck& stop);

/// Performs the intents of runs that are no longer alive (as `usbrecover repair` does) and
/// returns one line per thing restored or still failing; empty when nothing was left behind.
std::vector<std::string> repair_left_behind(const std::string& sysfs_root, const std::string& dev_root,
                                            const std::string& state_dir);

/// "1-1.2 0665:5161": how a device is labelled in intents and logs.
std::string device_label(const UsbDevice& d);

}  // namespace usbrecover
