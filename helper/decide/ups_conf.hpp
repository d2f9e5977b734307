// SPDX-License-Identifier: MIT
#pragma once

// Reads NUT's ups.conf far enough to find the USB device one driver section means, so the
// nut-driver@.service drop-in can pass just the instance name (`--nut-instance myups`).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "error.hpp"
#include "snapshot/snapshot.hpp"

namespace usbrecover {

/// One [section] of ups.conf: its name and its settings in order (flags have empty values).
struct UpsSection {
  std::string name;
  unsigned line = 0;
  std::vector<std::pair<std::string, std::string>> settings;

  /// The last value of `key`, as NUT takes the last one.
  [[nodiscard]] std::optional<std::string> get(std::string_view key) const;
};

/// Parses ups.conf text: sections, `key = value` with double-quoted values and backslash
/// escapes, flags, '#' comments. An Error names the line for anything it cannot read.
Result<std::vector<UpsSection>> parse_ups_conf(std::string_view text);

/// How a NUT USB driver section picks its device. Each field, when set, must match the
/// whole of the device's value, ignoring case, as NUT's own matcher does (values are regular
/// expressions there, usually just hex ids).
struct NutMatcher {
  std::string section;
  std::string driver;
  std::optional<std::string> vendorid, productid, serial, bus, device, busport;

  [[nodiscard]] bool matches(const UsbDevice& d) const;
};

/// What a section of ups.conf points at: a matcher for a USB driver, the port of a serial
/// driver (a UPS behind a USB-to-serial cable, resolved to its USB device by resolve_target), or
/// `not_usb` for a network or dummy driver (nothing for usbrecover to do).
struct NutLookup {
  std::optional<NutMatcher> matcher;       ///< a USB driver that finds its device by ids
  std::optional<std::string> serial_port;  ///< a serial driver: its `port`, a path under /dev/
  bool not_usb = false;                    ///< the section exists but its driver is not a USB one
  std::string why;                         ///< set when not_usb
};

/// Looks up section `name` (the last of that name, as NUT reads them) and says what it means.
/// Pure: reads no files. An Error when the section is missing or a value is not a valid pattern.
Result<NutLookup> nut_matcher(const std::vector<UpsSection>& sections, const std::string& name);

}  // namespace usbrecover
