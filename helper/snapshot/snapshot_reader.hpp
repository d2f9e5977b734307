// SPDX-License-Identifier: MIT
#pragma once

// Reads Snapshots and UsbDevices from libudev and sysfs, and hub descriptors through usbfs.
// A snapshot touches only the device's own path, its ancestors, the subtree of its parent hub
// (and that hub's USB3 peer) and, for controller_devices and mounts, the controller's buses;
// it never enumerates the whole tree. all_devices() does, for `list`, `tree` and selectors.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "error.hpp"
#include "snapshot/snapshot.hpp"

namespace usbrecover {

/// Where the reader looks. libudev always reads the real (or umockdev's) /sys, so there is no
/// sysfs root here; device nodes and mountinfo can be moved.
struct ReaderOptions {
  std::string dev_root = "/dev";  ///< prefix that replaces "/dev" in devnodes
  std::string mountinfo = "/proc/self/mountinfo";
  std::string swaps = "/proc/swaps";                ///< active swap areas
  std::string btrfs_root = "/sys/fs/btrfs";         ///< each btrfs filesystem's member devices
  std::string proc_root = "/proc";                  ///< who holds a multi-port adapter's ttys open
  std::chrono::milliseconds control_timeout{1000};  ///< for the hub descriptor request
};

/// How much of the tree a snapshot reads around its device.
enum class SnapshotScope {
  Hub,         ///< the parent hub and its USB3 peer: enough for every method but `controller`
  Controller,  ///< every device on the controller too, for the `controller` method
};

/// Reads devices and snapshots. Holds a libudev context; cheap to create, one per command.
class SnapshotReader {
 public:
  /// Fails when libudev cannot be initialised.
  static Result<SnapshotReader> open(ReaderOptions options = {});
  SnapshotReader(SnapshotReader&&) noexcept;
  SnapshotReader& operator=(SnapshotReader&&) noexcept;
  ~SnapshotReader();

  /// The snapshot of the USB device at `syspath` ("/sys/devices/.../1-1.2"). Fails when the
  /// path is not a USB device (an interface, a non-USB device, gone). With SnapshotScope::Hub
  /// only the parent hub's (and its USB3 peer's) subtree is read, so the cost does not grow
  /// with the rest of the tree; controller_devices is then left empty and marked unread.
  Result<Snapshot> snapshot(const std::string& syspath, SnapshotScope scope = SnapshotScope::Controller);

  /// The snapshot of port `number` of the hub at `hub_syspath` on which nothing enumerated: the
  /// device only names the port (device_present false), the rest is read as for a device there.
  Result<Snapshot> port_snapshot(const std::string& hub_syspath, unsigned number,
                                 SnapshotScope scope = SnapshotScope::Controller);

  /// One USB device with its interfaces and mounts, nothing around it.
  Result<UsbDevice> device(const std::string& syspath);

  /// The USB device a class device sits on ("tty", "ttyUSB0": the cable of a serial port), or
  /// nullopt when it is on no USB device. An Error (with errno) when there is no such device.
  Result<std::optional<UsbDevice>> usb_device_above(const std::string& subsystem, const std::string& sysname);

  /// Every USB device (root hubs included), sorted by bus and port path, with mounts. For
  /// `list`, `tree` and selector resolution.
  Result<std::vector<UsbDevice>> all_devices();

  /// The hub descriptor of `hub_device`, read with a usbfs GET_DESCRIPTOR on its node. Never
  /// fails: when the request does, switching is Unknown and descriptor_error says why.
  Hub hub(const UsbDevice& hub_device);

  /// The ports of a hub, from its interface's "<hub>-portN" directories, by number.
  std::vector<Port> ports(const UsbDevice& hub_device);

  /// The host controller of the bus `device` is on: the first non-USB ancestor of its root hub.
  Result<Controller> controller(const UsbDevice& device);

  /// The device node path below dev_root for `device` ("/dev/bus/usb/001/004"): udev's
  /// devnode, or built from bus and device number when udev made none.
  std::string usbfs_node(const UsbDevice& device) const;

 private:
  /// Fills in what surrounds the snapshot's device, hub, port and controller: the USB3 peer,
  /// the siblings and power gang, the controller's devices (with `scope`), mounts.
  Status surround(Snapshot& s, SnapshotScope scope);
  struct Impl;
  explicit SnapshotReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Sorts devices by bus, then port path numerically ("1-2" before "1-10", a hub before its
/// children). list, tree and selector candidates use this order.
void sort_devices(std::vector<UsbDevice>& devices);

}  // namespace usbrecover
