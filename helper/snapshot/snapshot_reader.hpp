// SPDX-License-Identifier: MIT
#pragma once

// Reads Snapshots and UsbDevices from sysfs, and hub descriptors through usbfs. USB names its
// devices by topology ("1-1.2.3" is on port 3 of "1-1.2"), so the devices around one are found by
// name in /sys/bus/usb/devices, and block devices by one link each in /sys/class/block: nothing
// walks the tree. A snapshot reads only the device's own path, its parent hub, the subtree of that
// hub (and its USB3 peer's) or, for controller_devices, the controller's buses. all_devices()
// reads every device, for `list`, `tree` and selectors; filtered by ids, only those that match.
// libudev is only asked for udev's properties (the table entry udev matched), for `list`.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "error.hpp"
#include "properties.hpp"
#include "snapshot/snapshot.hpp"

namespace usbrecover {

/// Where the reader looks; device nodes and mountinfo can be moved.
struct ReaderOptions {
  std::string sysfs_root = "/sys";
  std::string dev_root = "/dev";  ///< prefix that replaces "/dev" in devnodes
  std::string mountinfo = "/proc/self/mountinfo";
  std::string swaps = "/proc/swaps";                ///< active swap areas
  std::string btrfs_root = "/sys/fs/btrfs";         ///< each btrfs filesystem's member devices
  std::string proc_root = "/proc";                  ///< who holds a multi-port adapter's ttys open
  std::chrono::milliseconds control_timeout{1000};  ///< for the hub descriptor request
  /// udev's index of the devices its rules tagged "usbrecover": usbrecover's rules tag every
  /// device whose ids an entry of the table names (its twins too), so a lookup by ids starts there.
  std::string udev_tags = std::string("/run/udev/tags/") + prop::kTag;
};

/// How much of the tree a snapshot reads around its device.
enum class SnapshotScope {
  /// The device, what hangs below it and its parent hub without its hub descriptor: enough for
  /// the methods that act on the device alone (device, warm-reset, rebind, authorize). The
  /// controller is not read; hub_siblings holds only the devices below the device.
  Device,
  Hub,         ///< the parent hub and its USB3 peer: enough for every method but `controller`
  Controller,  ///< every device on the controller too, for the `controller` method
};

/// Which devices all_devices() reads, and how much of each. With `vendor` and `product`, the devices udev
/// tagged (ReaderOptions::udev_tags) come first: when one of them has the ids and the rules of its last event
/// named them (prop::kTableIds), every device with those ids is tagged, and only they are read. Otherwise
/// every device's ids are read (a device outside the table, or no udev).
struct DeviceFilter {
  std::optional<std::uint16_t> vendor;   ///< only devices of this vendor
  std::optional<std::uint16_t> product;  ///< and this product (with vendor)
  bool mounts = true;                    ///< the mounts below each device
  bool table_entries = false;            ///< the table entry udev matched (libudev's database)
};

/// Reads devices and snapshots; cheap to create, one per command.
class SnapshotReader {
 public:
  static Result<SnapshotReader> open(ReaderOptions options = {});
  SnapshotReader(SnapshotReader&&) noexcept;
  SnapshotReader& operator=(SnapshotReader&&) noexcept;
  ~SnapshotReader();

  /// The snapshot of the USB device at `syspath` ("/sys/devices/.../1-1.2"). Fails when the
  /// path is not a USB device (an interface, a non-USB device, gone). With SnapshotScope::Hub
  /// only the parent hub's (and its USB3 peer's) subtree is read, so the cost does not grow
  /// with the rest of the tree; controller_devices is then left empty and marked unread.
  Result<Snapshot> snapshot(const std::string& syspath, SnapshotScope scope = SnapshotScope::Controller);
  /// The same around a device just read with device() (a selector's), which is not read again.
  Result<Snapshot> snapshot(UsbDevice device, SnapshotScope scope = SnapshotScope::Controller);

  /// The snapshot of port `number` of the hub at `hub_syspath` on which nothing enumerated: the
  /// device only names the port (device_present false), the rest is read as for a device there.
  Result<Snapshot> port_snapshot(const std::string& hub_syspath, unsigned number,
                                 SnapshotScope scope = SnapshotScope::Controller);

  /// The snapshot of the device that was at `port_path` ("1-1.2") when its host controller
  /// died: the device only names the port (device_present false), no hub is read (a dead
  /// controller answers nothing below it), the controller and what is still on it are. An Error
  /// when the port path is not one or its bus is not there.
  Result<Snapshot> dead_controller_snapshot(const std::string& port_path);

  /// One USB device with its interfaces, nothing around it (no mounts, no table entry). An
  /// Error naming `syspath` with errno when there is nothing there, "not a USB device" for
  /// anything else.
  Result<UsbDevice> device(const std::string& syspath);

  /// The USB device a class device sits on ("tty", "ttyUSB0": the cable of a serial port), or
  /// nullopt when it is on no USB device. An Error (with errno) when there is no such device.
  Result<std::optional<UsbDevice>> usb_device_above(const std::string& subsystem, const std::string& sysname);

  /// Every USB device (root hubs included) that `filter` lets through, sorted by bus and port
  /// path. For `list`, `tree` and selector resolution.
  Result<std::vector<UsbDevice>> all_devices(const DeviceFilter& filter = {});

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
