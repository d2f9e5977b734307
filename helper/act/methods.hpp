// SPDX-License-Identifier: MIT
#pragma once

// What each recovery method does, as plain data: a Snapshot and a Method go in, an ordered list
// of steps comes out. Nothing here touches the system, so `reset --dry-run` prints exactly what
// a real run would do and the tests assert on it. executor.hpp carries the steps out.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "act/action.hpp"
#include "error.hpp"
#include "policy.hpp"
#include "snapshot/snapshot.hpp"

namespace usbrecover {

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
  /// The other ports of a multi-port serial device that someone uses, as describe_tty() words
  /// them: every method drops every tty of the device.
  std::vector<std::string> port_users;
  /// True when the device comes back with a new device number (it is enumerated anew).
  bool reenumerates = false;
  /// The usbfs nodes of the hubs kept resumed while the steps run and the device is awaited
  /// (Effects::hold_resumed says why): those whose port `port-power` switches off. A hub with
  /// nothing left below it autosuspends at once, and its resume would power the port again
  /// before the off time is over.
  std::vector<std::string> keep_resumed;
};

/// Inputs to planning besides the snapshot.
struct PlanOptions {
  std::string sysfs_root = "/sys";  ///< where /bus/usb/drivers and /bus/pci/drivers live
  /// How long port-power keeps the port off (a table entry's off_time); never less than the
  /// hub's power-on-to-good time and 100 ms, which is also what it is without it.
  std::optional<Millis> off_time;
};

/// The steps of `method` for the snapshot's device. An Error when the method cannot apply:
/// a device that is not authorized (see blocked_by_authorization), a root hub for `device`/`hub`,
/// a hub that does not switch port power, no driver to rebind, no device node. Collateral is computed but not
/// judged here: see refuse_collateral(). `warm-reset` also refuses a device not connected at
/// SuperSpeed and a port of a USB 2.0 hub, saying when a USB3 device fell back to USB 2.0.
Result<Plan> plan_method(const Snapshot& snap, Method method, const PlanOptions& opts = {});

/// Why a device whose `authorized` is 0 is left alone: "1-1.2 is not authorized (authorized = 0):
/// blocked by the USB authorization policy (…), which usbrecover does not override".
std::string blocked_by_authorization(const UsbDevice& d);

/// The other devices `method` disturbs: the device's own descendants always (and only those for
/// `device`, `warm-reset`, `rebind`, `authorize`); for `port-power`
/// on a ganged hub the devices on the gang's other ports; for `hub` everything below the hub;
/// for `controller` everything on the controller. Never the device itself.
std::vector<UsbDevice> collateral(const Snapshot& snap, Method method);

/// "1-1.3 (0781:5567 SanDisk Cruzer, mounted on /media/usb)": how a disturbed device is named.
std::string describe_device(const UsbDevice& d);

/// The ttys of the device that are used and are not `own_tty`, when it has more than one tty:
/// "ttyUSB1 of 1-1.2 (nutdrv_qx (pid 812); NUT instance [ups2])".
std::vector<std::string> port_users(const Snapshot& snap);

/// Ok when the plan disturbs nobody else or `allow_collateral`; otherwise an Error naming every
/// device it would disturb, mounted filesystems called out, and every other port in use.
Status refuse_collateral(const Plan& plan, bool allow_collateral);

}  // namespace usbrecover
