// SPDX-License-Identifier: MIT
#pragma once

// Recovery counters per device and method, kept in the state directory and, for admins who run
// many machines, written as a Prometheus textfile (node_exporter's textfile collector).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "policy.hpp"

namespace usbrecover {

/// One device's counters.
struct DeviceCounters {
  std::string device;  ///< port path, "1-1.2"
  std::string id;      ///< "0665:5161"
  /// method name -> {recovered, failed}
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> by_method;

  friend bool operator==(const DeviceCounters&, const DeviceCounters&) = default;
};

std::string format_counters(const DeviceCounters& c);
Result<DeviceCounters> parse_counters(std::string_view text);
/// The Prometheus text exposition of every device's counters, sorted by device and method.
std::string format_prometheus(std::vector<DeviceCounters> all);

/// Adds one attempt to the device's counters under STATE/metrics/KEY. Failures are ignored:
/// counters must never stop a recovery.
/// `device` is its port path ("1-1.2"), `id` its "0665:5161".
void record_metric(const std::string& state_dir, const std::string& key, const std::string& device,
                   const std::string& id, Method method, bool recovered);
/// Writes the textfile atomically from every device's counters.
Status write_metrics_textfile(const std::string& state_dir, const std::string& path);

}  // namespace usbrecover
