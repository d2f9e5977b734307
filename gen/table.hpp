// SPDX-License-Identifier: MIT
#pragma once

// The generator's plain data: where things are in a table file, what is wrong with them, and
// the validated table that the renderers turn into text.

#include <string>
#include <vector>

#include "policy.hpp"

namespace usbrecover::gen {

/// A place in a table file; line and column are 1-based.
struct Location {
  std::string file;
  unsigned line = 1;
  unsigned column = 1;

  /// "devices.toml:12:5"
  [[nodiscard]] std::string str() const;
  friend auto operator<=>(const Location&, const Location&) = default;
};

/// One problem with a table, printed as "FILE:LINE:COL: message".
struct Diagnostic {
  Location where;
  std::string message;

  [[nodiscard]] std::string str() const { return where.str() + ": " + message; }
  friend auto operator<=>(const Diagnostic&, const Diagnostic&) = default;
};
using Diagnostics = std::vector<Diagnostic>;

/// What a table entry matches: one id plus the optional string and port constraints.
/// Empty strings mean "not constrained".
struct Match {
  UsbId id;
  std::string manufacturer;
  std::string product;
  std::string serial;
  std::string port;

  /// How many optional constraints are set; more specific matches are emitted first.
  [[nodiscard]] int constraints() const;
  friend auto operator<=>(const Match&, const Match&) = default;
};

/// One id of one [[device]] entry with everything the renderers need.
struct DeviceRule {
  Match match;
  std::string name;  ///< the entry's name, for comments and logs
  Policy policy;
  std::vector<std::string> services;  ///< unit names that get a drop-in
  Location entry;                     ///< where the [[device]] entry starts
  Location id;                        ///< where this id is written

  /// "devices.toml:12", the value of USBRECOVER_SOURCE.
  [[nodiscard]] std::string source() const;
};

/// The validated, merged table: rules sorted the way they are emitted.
struct Table {
  std::vector<std::string> sources;  ///< table files in the order they were read
  std::vector<DeviceRule> rules;
};

/// Emission order: vendor, then exact products before the vendor wildcard, then more
/// constrained matches first, then the match strings. Total, so output is deterministic.
bool emission_order(const DeviceRule& a, const DeviceRule& b);

}  // namespace usbrecover::gen
