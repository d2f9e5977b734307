// SPDX-License-Identifier: MIT
#pragma once

// Every change the helper makes to the system goes through this interface: one real backend
// (sysfs writes and usbfs ioctls, roots given to its constructor) and a recording fake in the
// tests. Reading is not here; the snapshot reader and the verifier do that.

#include <chrono>
#include <string>
#include <string_view>

#include "error.hpp"

namespace usbrecover {

class Effects {
 public:
  virtual ~Effects() = default;

  /// Writes `value` to a sysfs attribute (full path below the sysfs root, e.g.
  /// "/sys/bus/usb/devices/1-1.2/authorized" or "/sys/bus/usb/drivers/usbhid/unbind").
  virtual Status write_sysfs(const std::string& path, std::string_view value) = 0;

  /// ioctl(USBDEVFS_RESET) on a /dev/bus/usb/BBB/DDD node.
  virtual Status reset_device(const std::string& devnode) = 0;

  /// Hub class request Set/ClearPortFeature(PORT_POWER) for `port` (1-based) through the
  /// hub's usbfs node.
  virtual Status set_port_power(const std::string& hub_devnode, unsigned port, bool on) = 0;

  /// Hub class request SetPortFeature(BH_PORT_RESET), a warm reset, for `port` (1-based) of a
  /// SuperSpeed hub through its usbfs node; returns once the port says the reset is over and
  /// the link is up again, or fails when it says the device is gone or the link did not come
  /// back (bounded: a warm reset and the link training after it take well under a second).
  /// The kernel is not told: see plan_method() for the reset that tells it.
  virtual Status warm_reset_port(const std::string& hub_devnode, unsigned port) = 0;

  /// Keeps the device behind a usbfs node resumed (out of runtime suspend) until this object is
  /// destroyed; holding a node twice is one hold. For a hub whose port is being recovered: a
  /// hub with no device below it autosuspends at once (the hub driver sets its autosuspend
  /// delay to 0), and anything that touches it resumes it, opening its usbfs node or reading or
  /// writing a port's `disable` attribute. At every resume the hub driver looks at its ports
  /// again (hub_activate): a port with something connected and no device enumerated gets
  /// another full enumeration round, which holds the hub's lock for seconds, and a port just
  /// powered off through `disable` gets one too, whose hub_port_connect() switches the port's
  /// power back on long before the off time is over (Debian's 6.1, seen with vhci_hcd in the
  /// flagship test). Held, the hub is resumed once and stays resumed.
  virtual Status hold_resumed(const std::string& devnode) = 0;

  /// Waits at least `d`. Only for delays the hardware demands (a hub's power-on-to-power-good
  /// time), never to wait for a device: the verifier listens to udev for that.
  virtual void pause(std::chrono::milliseconds d) = 0;
};

}  // namespace usbrecover
