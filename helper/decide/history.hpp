// SPDX-License-Identifier: MIT
#pragma once

// What happened to one device before: recoveries tried and how the services using it ended.
// Plain data plus a strict text form; history_store.hpp reads and writes the files.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "policy.hpp"

namespace usbrecover {

/// Milliseconds since the Unix epoch (wall clock: history outlives the process).
using EpochMs = std::int64_t;

/// One recovery attempt with one method.
struct Attempt {
  EpochMs at = 0;  ///< when it started
  Method method = Method::Device;
  bool recovered = false;  ///< verified back and, if configured, the probe answered
  std::string detail;      ///< one line: what failed, or "verified"

  friend bool operator==(const Attempt&, const Attempt&) = default;
};

/// How a service that uses the device ended (recorded by its ExecStopPost).
struct ServiceEnd {
  EpochMs at = 0;
  std::string unit;         ///< "nut-driver@myups.service"
  bool failed = false;      ///< $SERVICE_RESULT was not "success"
  std::string result;       ///< $SERVICE_RESULT
  std::string exit_code;    ///< $EXIT_CODE
  std::string exit_status;  ///< $EXIT_STATUS

  friend bool operator==(const ServiceEnd&, const ServiceEnd&) = default;
};

struct History {
  std::vector<Attempt> attempts;     ///< oldest first
  std::vector<ServiceEnd> services;  ///< oldest first
  /// The last failure logged and how many times in a row it happened, to thin out the log.
  std::string last_failure;
  unsigned failure_streak = 0;

  friend bool operator==(const History&, const History&) = default;
};

/// At most this many records of each kind are kept; older ones are dropped on save. Never fewer
/// than a table's largest max_resets, or the budget would stop counting.
inline constexpr std::size_t kHistoryKeep = kMaxResetsLimit;
static_assert(kHistoryKeep >= kMaxResetsLimit);

/// The file form: a "usbrecover-history 1" line, then one record per line. Free text
/// (detail, unit, result...) is percent-encoded so a line is always one line.
std::string format_history(const History& h);
/// Inverse of format_history(); an Error naming the line for anything else.
Result<History> parse_history(std::string_view text);

/// The key of a port's lock: one recovery at a time per physical port, whatever the device on it
/// says about itself (a wedged bridge may come back without its serial, or with other ids).
std::string port_lock_key(const std::string& port_path);

/// The key of a device in the state directory: port path, ids and a hash of the serial, so a
/// different device plugged into the same port starts with a clean history.
std::string device_key(const std::string& port_path, std::uint16_t vendor, std::uint16_t product,
                       const std::string& serial);

}  // namespace usbrecover
