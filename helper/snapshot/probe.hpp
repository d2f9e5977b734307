// SPDX-License-Identifier: MIT
#pragma once

// Does the device answer? The probe configured for a table entry (none, open, descriptor,
// megatec-q1) is run before the decision and again after a recovery.

#include <chrono>
#include <string>

#include "policy.hpp"
#include "snapshot/probe_result.hpp"
#include "snapshot/snapshot.hpp"

namespace usbrecover {

struct ProbeOptions {
  std::chrono::milliseconds timeout{2000};  ///< per transfer
};

/// Runs `kind` against `device` (its devnode, ids and interfaces as in the snapshot).
/// Probe::None gives NotConfigured. Never changes the device's configuration; a kernel driver
/// detached for the probe is attached again before returning.
ProbeResult run_probe(Probe kind, const UsbDevice& device, const ProbeOptions& options = {});

}  // namespace usbrecover
