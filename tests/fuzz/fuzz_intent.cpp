// SPDX-License-Identifier: MIT
// libFuzzer entry for intent files, which `usbrecover repair` reads from the state directory and
// acts on as root. Links only act/intent_format.cpp, act/action.cpp and util/path.cpp. Whatever a
// file says: parsing ends; what parses is written back by format_intent() into a file that parses
// to the same intent; and validate_undo() only lets through an undo that stays below /sys or is
// power on for a usbfs node below /dev. The input is also read as one action line.

#include <cstddef>
#include <cstdint>
#include <string>

#include "act/intent_format.hpp"
#include "fuzz.hpp"

namespace {

using usbrecover::fuzz::check;

bool has_dot_dot(const std::string& path) {
  return path.find("/../") != std::string::npos || path.ends_with("/..");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace usbrecover;
  const auto text = fuzz::as_text(data, size);

  if (auto action = parse_action(text)) {
    auto again = parse_action(to_string(*action));
    check(again && *again == *action, "an action line is read back as the same action");
  }

  auto parsed = parse_intent(text);
  if (!parsed) return 0;
  auto again = parse_intent(format_intent(parsed->device, to_string(parsed->undo)));
  check(again && again->device == parsed->device && again->undo == parsed->undo,
        "an intent is read back as the same intent");

  const Roots roots;
  if (!validate_undo(parsed->undo, roots)) return 0;
  const Action& undo = parsed->undo;
  check(!has_dot_dot(undo.target), "an accepted undo has no '..' in its path");
  switch (undo.kind) {
    case Action::Kind::WriteSysfs:
      check(undo.target.starts_with("/sys/"), "an accepted write is below /sys");
      break;
    case Action::Kind::PortPower:
      check(undo.target.starts_with("/dev/bus/usb/") && undo.on,
            "an accepted port power is on, on a usbfs node");
      break;
    case Action::Kind::ResetDevice:
    case Action::Kind::Pause:
    case Action::Kind::WarmReset:
      check(false, "resets, warm resets and pauses are never undos");
  }
  return 0;
}
