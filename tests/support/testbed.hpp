// SPDX-License-Identifier: MIT
#pragma once

// A builder for umockdev testbeds that look like a real USB tree: PCI host controllers, root
// hubs, external hubs with their port directories (`disable`, `peer`, `connect_type`), devices
// with interfaces, drivers, descriptors and udev properties, a usb-storage disk with a
// partition, and a fake mountinfo. Every device node is served by a UsbfsFake, which answers
// each hub's GET_DESCRIPTOR(hub) from its HubSpec.
//
// The test binary must run under umockdev-wrapper (the preload library); without it,
// Testbed::available() is false and tests skip.
//
// build_standard_bed() builds the bed of issue 3, which most tests use:
//
//   0000:00:14.0 xhci_hcd
//     usb1 (USB 2.0 root hub, per-port)      usb2 (SuperSpeed root hub), ports peered 1:1
//       1-1 USB3 hub, USB 2.0 half, per-port   2-1 the same hub's SuperSpeed half, peered 1:1
//         1-1.1 0665:5161 INNO TECH UPS          2-1.4 0781:5583 SanDisk usb-storage, sdb1
//         1-1.2 0403:6001 twin, serial A               mounted on "/media/user/USB STICK"
//       1-2 1a40:0101 hub, ganged power, ports without `disable`
//         1-2.1 046d:c31c keyboard
//         1-2.3 0403:6001 twin, serial B
//       usb1-port3 disabled, usb1-port4 hardwired
//   0000:00:1d.0 ehci-pci
//     usb3 (USB 2.0 root hub)
//       3-1 1234:abcd with hostile strings (escape sequences, quotes, invalid UTF-8)

#include <umockdev.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "snapshot/snapshot.hpp"
#include "usbfs_fake.hpp"

namespace usbrecover::testing {

/// One interface of a fake device.
struct InterfaceSpec {
  std::uint8_t number = 0;
  std::uint8_t cls = 0;
  std::uint8_t subclass = 0;
  std::uint8_t protocol = 0;
  std::string driver;               ///< bound driver; empty = unbound
  std::vector<Endpoint> endpoints;  ///< go into the `descriptors` blob
};

/// A fake USB device (also the device part of a hub).
struct DeviceSpec {
  std::uint16_t vendor = 0;
  std::uint16_t product = 0;
  std::string manufacturer;
  std::string product_name;
  std::string serial;
  std::string speed = "12";      ///< Mbit/s as sysfs spells it
  std::string version = "2.00";  ///< bcdUSB as sysfs spells it
  std::uint8_t device_class = 0;
  std::vector<InterfaceSpec> interfaces;
  /// Extra udev properties, e.g. {"USBRECOVER_NAME", "megatec-ups"}.
  std::vector<std::pair<std::string, std::string>> properties;
  /// Attach the fake usbfs to its node. A benchmark turns it off for devices the command never
  /// opens: umockdev's ioctl thread polls one socket per attached node on every ioctl.
  bool usbfs = true;
};

/// The hub-specific part of a hub: what its hub descriptor says and what its ports look like.
struct HubSpec {
  unsigned nports = 4;
  PowerSwitching switching = PowerSwitching::PerPort;  ///< Unknown is encoded as "no switching"
  unsigned power_on_to_good_ms = 100;
  bool superspeed = false;        ///< answer GET_DESCRIPTOR(0x2A) instead of (0x29)
  bool port_disable_attr = true;  ///< give its ports a `disable` attribute (kernel >= 6.0)
};

/// The hub class descriptor a hub with `spec` returns (type 0x29 or 0x2A).
std::vector<std::uint8_t> hub_descriptor_bytes(const HubSpec& spec);
/// The sysfs `descriptors` blob of a device: device descriptor and one configuration.
std::vector<std::uint8_t> descriptors_blob(const DeviceSpec& spec);

class Testbed {
 public:
  /// True when the process runs under umockdev's preload (umockdev-wrapper).
  static bool available();

  Testbed();
  ~Testbed();
  Testbed(const Testbed&) = delete;
  Testbed& operator=(const Testbed&) = delete;

  UMockdevTestbed* native() const { return testbed_; }
  UsbfsFake& usbfs() { return usbfs_; }
  /// The testbed's real directory (its /sys is root_dir() + "/sys").
  std::string root_dir() const;

  /// A PCI host controller below /sys/devices/pci0000:00; returns its syspath.
  std::string add_pci_controller(const std::string& address, const std::string& driver);
  /// The root hub "usbBUS" of `controller`, with its interface and port directories.
  std::string add_root_hub(const std::string& controller, unsigned bus, const HubSpec& hub);
  /// A hub on port `port` of `parent_hub`; `spec.device_class` is forced to 9.
  std::string add_hub(const std::string& parent_hub, unsigned port, DeviceSpec spec, const HubSpec& hub);
  /// A device on port `port` of `parent_hub`; device numbers count up per bus.
  std::string add_device(const std::string& parent_hub, unsigned port, const DeviceSpec& spec);
  /// Makes two port directories each other's `peer` (the USB 2.0 and SuperSpeed halves).
  void link_peers(const std::string& port_a, const std::string& port_b);
  /// A SCSI disk `name` (major:minor) with partition `name`1 (major:minor+1) below a
  /// usb-storage interface; returns the partition's syspath.
  std::string add_disk(const std::string& interface, const std::string& name, unsigned major, unsigned minor);
  /// Writes a mountinfo file into the testbed directory; returns its path (for
  /// Context::mountinfo / ReaderOptions::mountinfo).
  std::string write_mountinfo(const std::string& text);

  /// The port directory of port `port` of `hub` ("…/1-1:1.0/1-1-port2").
  static std::string port_dir(const std::string& hub, unsigned port);
  /// The interface syspath "<device>/<name>:1.<number>".
  static std::string interface_path(const std::string& device, unsigned number);
  /// The usbfs node of a device added by this builder ("/dev/bus/usb/001/004").
  std::string devnode(const std::string& device) const;

  /// Sets a sysfs attribute (a file below the device's directory).
  void set_attribute(const std::string& syspath, const std::string& name, const std::string& value);

 private:
  std::string add_usb(const std::string& parent, const std::string& name, unsigned bus,
                      const DeviceSpec& spec, const HubSpec* hub);
  void add_ports(const std::string& hub, const HubSpec& spec);
  void mkdir(const std::string& syspath);

  UMockdevTestbed* testbed_;
  UsbfsFake usbfs_;
  std::vector<unsigned> next_devnum_;                          // per bus
  std::vector<std::pair<std::string, std::string>> devnodes_;  // syspath -> node
};

/// The 0665:5161 "INNO TECH" / "USB to Serial" UPS bridge: low speed, one HID interface bound
/// to usbhid with its interrupt IN endpoint, and the given udev properties.
DeviceSpec inno_tech_ups(std::vector<std::pair<std::string, std::string>> properties);

/// The syspaths of the standard bed (see the top of this file).
struct StandardBed {
  std::unique_ptr<Testbed> bed;
  std::string xhci, usb1, usb2, hub_usb2_half, hub_ss_half, ups, twin_a, ganged_hub, keyboard, twin_b,
      storage, partition, ehci, usb3, hostile, mountinfo;
};

/// Builds the standard bed. Call only when Testbed::available().
StandardBed build_standard_bed();

}  // namespace usbrecover::testing
