// SPDX-License-Identifier: MIT
#pragma once

// Does the device answer? The probe configured for a table entry (none, open, descriptor,
// megatec-q1, control) is run before the decision and again after a recovery.

#include <chrono>
#include <string>

#include "error.hpp"
#include "policy.hpp"
#include "snapshot/probe_result.hpp"
#include "snapshot/snapshot.hpp"

namespace usbrecover {

/// Told before a probe detaches a kernel driver from an interface and after it attached it
/// again, so that a process killed in between leaves a record that `usbrecover repair` acts on
/// (act/recovery.hpp journals it as an intent).
class DetachJournal {
 public:
  virtual ~DetachJournal() = default;
  /// Before `driver` is detached from `interface` ("1-1.2:1.0") of `device`; an error stops the
  /// probe before it detaches anything.
  virtual Status detaching(const UsbDevice& device, const std::string& interface,
                           const std::string& driver) = 0;
  /// Once the driver is attached again.
  virtual void attached() = 0;
};

struct ProbeOptions {
  std::chrono::milliseconds timeout{2000};  ///< per transfer
  /// Where a detach is journaled. Without one (nullptr) the megatec probe does not detach a
  /// kernel driver at all and says so.
  DetachJournal* journal = nullptr;
};

/// Runs `kind` against `device` (its devnode, ids and interfaces as in the snapshot).
/// Probe::None gives NotConfigured. Never changes the device's configuration; a kernel driver
/// detached for the probe is attached again before returning.
ProbeResult run_probe(Probe kind, const UsbDevice& device, const ProbeOptions& options = {});

}  // namespace usbrecover
