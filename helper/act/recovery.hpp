// SPDX-License-Identifier: MIT
#pragma once

// Carrying out one method's plan and verifying the device came back: the part `reset` and
// `handle` share.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "act/executor.hpp"
#include "act/intent.hpp"
#include "act/methods.hpp"
#include "act/verify.hpp"
#include "snapshot/probe.hpp"
#include "snapshot/snapshot.hpp"
#include "snapshot/snapshot_reader.hpp"

namespace usbrecover {

struct RecoveryRoots {
  std::string sysfs = "/sys";
  std::string dev = "/dev";
  std::string state_dir;
  std::string udev_control = "/run/udev/control";  ///< tells whether udevd runs (udevd_running)
};

struct RecoveryOutcome {
  RunReport run;                   ///< what the executor did
  std::optional<UsbDevice> after;  ///< the device as it came back, when verified
  std::optional<Error> error;      ///< why it failed, left-off actions named
  /// It came back, but its bus's authorized_default (or a policy daemon) left it unauthorized:
  /// not verified, and no method may go further (error says so).
  bool left_unauthorized = false;
  /// Whose events the verification waited for: the kernel's when udevd does not run.
  EventSource events = EventSource::Udev;
  [[nodiscard]] bool verified() const { return after.has_value(); }
};

/// What a caller says about the events a verification used: empty for udev's, a note when udevd
/// does not run and the kernel's uevents stood in.
std::string events_note(const RecoveryOutcome& o);

/// Runs `plan` on the snapshot's device through the real effects, with intents, then waits
/// (udev events, no sleeps; the kernel's uevents where udevd does not run) until the same device
/// is back or `deadline`/`stop` says to give up.
/// For a port on which nothing had enumerated (snap.device_present false), it waits for a device
/// to enumerate there instead, with one of `expect_ids` when any are given.
RecoveryOutcome carry_out(const Snapshot& snap, const Plan& plan, SnapshotReader& reader,
                          const RecoveryRoots& roots, std::chrono::steady_clock::time_point deadline,
                          const StopCheck& stop, const std::vector<UsbId>& expect_ids = {});

/// Performs the intents of runs that are no longer alive (as `usbrecover repair` does) and
/// returns one line per thing restored or still failing; empty when nothing was left behind.
std::vector<std::string> repair_left_behind(const std::string& sysfs_root, const std::string& dev_root,
                                            const std::string& state_dir);

/// Journals a probe's driver detach as an intent (the undo binds the driver to the interface
/// again), so that a helper killed mid-probe leaves the driver for `usbrecover repair` to bind.
class ProbeIntents final : public DetachJournal {
 public:
  ProbeIntents(std::string sysfs_root, std::string state_dir)
      : sysfs_root_(std::move(sysfs_root)), journal_(std::move(state_dir)) {}
  Status detaching(const UsbDevice& device, const std::string& interface, const std::string& driver) override;
  void attached() override;

 private:
  std::string sysfs_root_;
  IntentJournal journal_;
  Intent intent_;
};

/// "1-1.2 0665:5161": how a device is labelled in intents and logs.
std::string device_label(const UsbDevice& d);

}  // namespace usbrecover
