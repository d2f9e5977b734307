// SPDX-License-Identifier: MIT
#pragma once

// Recovery counters per device and method, kept in the state directory and, for admins who run
// many machines, written as a Prometheus textfile (node_exporter's textfile collector). The text
// forms are in counters.hpp; this file reads and writes the files.

#include <string>

#include "error.hpp"
#include "policy.hpp"
#include "util/counters.hpp"

namespace usbrecover {

/// Adds one attempt to the device's counters under STATE/metrics/KEY. Failures are ignored:
/// counters must never stop a recovery.
/// `device` is its port path ("1-1.2"), `id` its "0665:5161".
void record_metric(const std::string& state_dir, const std::string& key, const std::string& device,
                   const std::string& id, Method method, bool recovered);
/// Writes the textfile atomically from every device's counters.
Status write_metrics_textfile(const std::string& state_dir, const std::string& path);

}  // namespace usbrecover
