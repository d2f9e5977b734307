// SPDX-License-Identifier: MIT
#pragma once

// The vocabulary of change: one Action is one thing done to the system (a sysfs write, a device
// reset, a port's power, a port's warm reset, a pause). Methods plan them, the executor performs them,
// intents store their undo. This header sits below all three, so each depends on it and none on another.

#include <optional>
#include <string>
#include <string_view>

#include "error.hpp"
#include "policy.hpp"

namespace usbrecover {

class Effects;

/// One change to the system, the unit the Effects interface performs.
struct Action {
  enum class Kind { WriteSysfs, ResetDevice, PortPower, Pause, WarmReset };
  Kind kind = Kind::Pause;
  std::string target;  ///< WriteSysfs: the attribute; ResetDevice/PortPower/WarmReset: the usbfs node
  std::string value;   ///< WriteSysfs: what is written
  unsigned port = 0;   ///< PortPower/WarmReset: 1-based hub port
  bool on = false;     ///< PortPower: on or off
  Millis duration{0};  ///< Pause

  friend bool operator==(const Action&, const Action&) = default;
};

/// Shorthands that build the five kinds.
Action write_action(std::string path, std::string value);
Action reset_action(std::string devnode);
Action port_power_action(std::string hub_devnode, unsigned port, bool on);
Action pause_action(Millis d);
/// A warm reset (BH_PORT_RESET) of `port` of the SuperSpeed hub whose usbfs node is `hub_devnode`.
Action warm_reset_action(std::string hub_devnode, unsigned port);

/// One line, the form intents store and `--dry-run` prints:
/// "write /sys/bus/usb/devices/1-1.2/authorized 0", "reset /dev/bus/usb/001/004",
/// "port-power /dev/bus/usb/001/003 2 off", "warm-reset /dev/bus/usb/002/001 4", "pause 100ms".
std::string to_string(const Action& a);
/// Inverse of to_string(const Action&); nullopt on anything it would not have produced.
std::optional<Action> parse_action(std::string_view line);

/// Performs one action through `fx` (a pause just pauses).
Status perform(Effects& fx, const Action& a);

}  // namespace usbrecover
