// SPDX-License-Identifier: MIT
#pragma once

// Reads NUT's ups.conf as NUT 2.8.0 itself reads it (its parseconf tokenizer and upsconf line
// rules), far enough to find the USB device one driver section means, so the nut-driver@.service
// drop-in can pass just the unit's instance (`--nut-instance %i`).
//
// NUT's reader rejects nothing but an unescaped '#' inside quotes, and skips that line; anything
// else it reads in its own way (a `desc = Server room UPS` keeps "Server", a `key=` with nothing
// after it sets nothing). The same text gives the same settings here. A line NUT rejects is an
// error only for the section it is in.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "snapshot/snapshot.hpp"

namespace usbrecover {

/// One `key = value` or flag.
struct UpsSetting {
  std::string key;
  std::optional<std::string> value;  ///< nullopt for a flag (`nolock`)
  unsigned line = 0;                 ///< where its logical line starts

  friend bool operator==(const UpsSetting&, const UpsSetting&) = default;
};

/// One [section] of ups.conf: its name and its settings in order.
struct UpsSection {
  std::string name;
  unsigned line = 0;
  std::vector<UpsSetting> settings;

  /// The last value of `key`, as NUT takes the last one; "" for a flag.
  [[nodiscard]] std::optional<std::string> get(std::string_view key) const;
};

/// A line NUT's reader rejects (and skips).
struct UpsConfError {
  unsigned line = 0;
  std::optional<std::string> section;  ///< the section it is in; nullopt before the first
  std::string reason;
};

/// The whole file as NUT sees it.
struct UpsConf {
  std::vector<UpsSetting> globals;   ///< before the first section (driver-wide settings)
  std::vector<UpsSection> sections;  ///< in file order; a name may appear more than once
  std::vector<UpsConfError> errors;
};

/// Reads ups.conf text as NUT 2.8.0 does: words split at white space, `=` always a word of its
/// own, "double quotes" and backslash escapes (a backslash before a newline joins the lines),
/// `#` comments, characters outside 0x20..0x7f dropped, words cut at 512 characters, lines at 32
/// words, and a last line without a newline kept only when it has more than one word. Pure; it
/// never fails: what NUT rejects is listed in `errors`.
UpsConf parse_ups_conf(std::string_view text);

/// The section a nut-driver@ unit instance (`%i`) stands for, as NUT's driver enumerator names
/// them: the section name itself, or "MD5_" and the MD5 of the name followed by a newline (for a
/// section whose name is not a valid unit name). nullopt when no section fits.
std::optional<std::string> nut_section_for_instance(const UpsConf& conf, std::string_view instance);

/// How a NUT USB driver section picks its device. Each field, when set, must match the
/// whole of the device's value, ignoring case, as NUT's own matcher does (values are regular
/// expressions there, usually just hex ids). A pattern costly_regex() refuses matches nothing.
struct NutMatcher {
  std::string section;
  std::string driver;
  std::optional<std::string> vendorid, productid, serial, bus, device, busport, vendor, product;

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

/// Looks up section `name` (every section of that name, as NUT applies each of them in turn)
/// and says what it means. Pure. An Error when there is no such section, when a line NUT
/// rejects is in it ("FILE:LINE: …", `file` naming the file), or a value is not a valid pattern
/// or one too costly to compile and run (util/regex_cost.hpp).
Result<NutLookup> nut_matcher(const UpsConf& conf, const std::string& name,
                              const std::string& file = "ups.conf");

}  // namespace usbrecover
