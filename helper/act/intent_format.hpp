// SPDX-License-Identifier: MIT
#pragma once

// The text of an intent file, apart from the files themselves (intent.hpp): the three lines
// IntentJournal writes, the parser repair reads them back with, and the check that decides
// which undos repair may perform. Pure, so the fuzzer links it without any file I/O.

#include <optional>
#include <string>
#include <string_view>

#include "act/action.hpp"
#include "error.hpp"

namespace usbrecover {

/// The first line of every intent file: the format and its version.
inline constexpr std::string_view kIntentMagic = "usbrecover-intent 1";

/// What an intent file says.
struct ParsedIntent {
  std::string device;  ///< as recorded ("1-1.2 0665:5161"), for messages
  Action undo;
  std::string line;  ///< the undo line as written, for messages
};

/// The content of an intent file: the magic line, "device DEVICE", "undo LINE", each ended by a
/// newline. The caller makes sure neither `device` nor `undo_line` holds a newline.
std::string format_intent(std::string_view device, std::string_view undo_line);

/// Inverse of format_intent(): exactly three lines, each ended by a newline, the magic first, and
/// an undo line parse_action() reads. nullopt on anything else (a torn or foreign file).
std::optional<ParsedIntent> parse_intent(std::string_view text);

/// Where undo actions may point, so a tampered intent cannot write anywhere else.
struct Roots {
  std::string sysfs = "/sys";
  std::string dev = "/dev";
};

/// Ok when `undo` is something this program writes as an undo: "1" to `authorized`, "0" to a
/// port's `disable`, an interface or controller name to a driver's `bind`, or power on for a
/// port of a usbfs node, each below its root.
Status validate_undo(const Action& undo, const Roots& roots);

}  // namespace usbrecover
