// SPDX-License-Identifier: MIT
#pragma once

// What happened to one device before: recoveries tried and how the services using it ended.
// Plain data plus a strict text form; history_store.hpp reads and writes the files.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "policy.hpp"
#include "snapshot/snapshot.hpp"

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

/// An over-current the port reported (the watcher records it from the kernel).
struct OverCurrent {
  EpochMs at = 0;
  unsigned count = 0;  ///< the kernel's OVER_CURRENT_COUNT for the port, 0 when unknown

  friend bool operator==(const OverCurrent&, const OverCurrent&) = default;
};

struct History {
  std::vector<Attempt> attempts;          ///< oldest first
  std::vector<ServiceEnd> services;       ///< oldest first
  std::vector<OverCurrent> overcurrents;  ///< oldest first
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

/// "2026-11-29 18:02:11 UTC": a history time for a person. UTC, so that a decision does not depend
/// on the machine's time zone (the planner reads no files).
std::string format_utc(EpochMs at);

/// "port-1-1.2": a port path as a file name (only digits, '-' and '.' kept, others '_').
std::string port_key(const std::string& port_path);

/// The port path of the device that sits on a hub port directory ("…/usb1-port2" -> "1-2",
/// "…/1-1-port3" -> "1-1.3"); nullopt for a name that is not a port's.
std::optional<std::string> port_path_of_port_dir(const std::string& port_syspath);

/// The key of the physical connector a device is plugged into: port_key() of its port path, or,
/// for the SuperSpeed half of a USB3 port, of the USB 2.0 half's (its `peer`), so a device that
/// falls back to its USB 2.0 connection is the same connector. Locks, history and metrics are
/// all keyed by it: one recovery at a time and one budget per connector, whatever the device on
/// it says about itself (a wedged bridge may come back without its serial, with a new one each
/// time, or with other ids).
std::string connector_key(const Snapshot& snapshot);

}  // namespace usbrecover
