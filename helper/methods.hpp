// SPDX-License-Identifier: MIT
#pragma once

// What each recovery method does, as plain data: a Snapshot and a Method go in, an ordered list
// of steps comes out. Nothing here touches the system, so `reset --dry-run` prints exactly what
// a real run would do and the tests assert on it. executor.hpp carries the steps out.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "policy.hpp"
#include "snapshot.hpp"

namespace usbrecover {

/// One change to the system, the unit the Effects interface performs.
struct Action {
  enum class Kind { WriteSysfs, ResetDevice, PortPower, Pause };
  Kind kind = Kind::Pause;
  std::string target;  ///< WriteSysfs: the attribute; ResetDevice/PortPower: the usbfs node
  std::string value;   ///< WriteSysfs: what is written
  unsigned port = 0;   ///< PortPower: 1-based hub port
  bool on = false;     ///< PortPower: on or off
  Millis duration{0};  ///< Pause

  friend bool operator==(const Action&, const Action&) = default;
};

/// Shorthands that build the four kinds.
Action write_action(std::string path, std::string value);
Action reset_action(std::string devnode);
Action port_power_action(std::string hub_devnode, unsigned port, bool on);
Action pause_action(Millis d);

/// One line, the form intents store and `--dry-run` prints:
/// "write /sys/bus/usb/devices/1-1.2/authorized 0", "reset /dev/bus/usb/001/004",
/// "port-power /dev/bus/usb/001/003 2 off", "pause 100ms".
std::string to_string(const Action& a);
/// Inverse of to_string(const Action&); nullopt on anything it would not have produced.
std::optional<Action> parse_action(std::string_view line);

/// One step of a method. A step that turns something off carries the action that turns it back
/// on; a later step of the same plan performs exactly that action (that is how the executor
/// knows the thing is on again).
struct Step {
  Action action;
  std::optional<Action> undo;

  friend bool operator==(const Step&, const Step&) = default;
};

/// What a method will do to a device, and whom else it disturbs.
struct Plan {
  Method method = Method::Device;
  std::vector<Step> steps;
  /// Every other device the steps disturb (each with its mounts), in snapshot order.
  std::vector<UsbDevice> collateral;
  /// True when the device comes back with a new device number (it is enumerated anew).
  bool reenumerates = false;
};

/// Inputs to planning besides the snapshot.
struct PlanOptions {
  std::string sysfs_root = "/sys";  ///< where /bus/usb/drivers and /bus/pci/drivers live
};

/// The steps of `method` for the snapshot's device. An Error when the method cannot apply:
/// a root hub for `device`/`hub`, a hub that does not switch port power, no driver to rebind,
/// no device node. Collateral is computed but not judged here: see refuse_collateral().
Result<Plan> plan_method(const Snapshot& snap, Method method, const PlanOptions& opts = {});

/// The other devices `method` disturbs: the device's own descendants always; for `port-power`
/// on a ganged hub the devices on the gang's other ports; for `hub` everything below the hub;
/// for `controller` everything on the controller. Never the device itself.
std::vector<UsbDevice> collateral(const Snapshot& snap, Method method);

/// "1-1.3 (0781:5567 SanDisk Cruzer, mounted on /media/usb)": how a disturbed device is named.
std::string describe_device(const UsbDevice& d);

/// Ok when the plan disturbs nobody else or `allow_collateral`; otherwise an Error naming every
/// device it would disturb, mounted filesystems called out.
Status refuse_collateral(const Plan& plan, bool allow_collateral);

}  // namespace usbrecover
