// SPDX-License-Identifier: MIT
#pragma once

// The text forms of the recovery counters (metrics.hpp keeps them in files): one device's
// counters file, and the Prometheus textfile of them all. Pure, so the fuzzer links it without
// the file I/O of metrics.cpp.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "error.hpp"

namespace usbrecover {

/// One device's counters.
struct DeviceCounters {
  std::string device;  ///< port path, "1-1.2"
  std::string id;      ///< "0665:5161"
  /// method name -> {recovered, failed}
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> by_method;

  friend bool operator==(const DeviceCounters&, const DeviceCounters&) = default;
};

/// The counters file: a "usbrecover-counters 1" line, "device PORT ID", then "METHOD OK FAILED"
/// lines.
std::string format_counters(const DeviceCounters& c);
/// Inverse of format_counters(); an Error for a file it would not have written.
Result<DeviceCounters> parse_counters(std::string_view text);
/// The Prometheus text exposition of every device's counters, sorted by device and method.
std::string format_prometheus(std::vector<DeviceCounters> all);

}  // namespace usbrecover
