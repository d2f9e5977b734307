// SPDX-License-Identifier: MIT
#pragma once

// A plain-data picture of one USB device and what surrounds it. Read once from libudev and
// sysfs (snapshot_reader), then handed to pure code (planner, collateral, printers). Nothing
// here holds a handle or reads a file.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy.hpp"

namespace usbrecover {

/// How an active swap area on a device is listed among its mounts, as lsblk shows it.
inline constexpr const char* kSwapMount = "[SWAP]";

/// How a hub switches port power (wHubCharacteristics bits 1:0 of its hub descriptor).
enum class PowerSwitching { Unknown, Ganged, PerPort, None };
std::string_view to_string(PowerSwitching s);

/// One endpoint of an interface, from the device's descriptors.
struct Endpoint {
  std::uint8_t address = 0;           ///< bEndpointAddress; bit 7 set = IN
  std::uint8_t attributes = 0;        ///< bmAttributes; bits 1:0 transfer type (3 = interrupt)
  std::uint16_t max_packet_size = 0;  ///< wMaxPacketSize, raw
  std::uint8_t interval = 0;          ///< bInterval
};

/// A tty a device provides (a port of a USB-serial adapter, a modem's ACM port) and who uses it.
struct TtyPort {
  std::string name;                ///< "ttyUSB1"
  std::vector<std::string> users;  ///< "nutdrv_qx (pid 812)", "NUT instance [ups2]"
};

/// One interface of a device ("1-1.2:1.0").
struct Interface {
  std::string sysname;      ///< "1-1.2:1.0"
  std::uint8_t number = 0;  ///< bInterfaceNumber
  std::uint8_t cls = 0;     ///< bInterfaceClass
  std::uint8_t subclass = 0;
  std::uint8_t protocol = 0;
  std::string driver;               ///< bound driver name, empty when unbound
  std::vector<Endpoint> endpoints;  ///< from the active configuration's descriptors
  std::vector<TtyPort> ttys;        ///< the ttys on it; their users only in a snapshot (see below)
};

/// A USB device as sysfs shows it (also used for hubs and for the neighbours of a device).
struct UsbDevice {
  std::string syspath;    ///< "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.2"
  std::string sysname;    ///< "1-1.2" (for a root hub: "usb1")
  std::string port_path;  ///< "1-1.2"; a root hub is "1-0" (bus-devpath, as the kernel names it)
  std::string devnode;    ///< "/dev/bus/usb/001/004", empty when udev made none
  unsigned busnum = 0;
  unsigned devnum = 0;
  std::uint16_t vendor = 0;
  std::uint16_t product = 0;
  std::string manufacturer;  ///< string descriptors as the kernel decoded them; may be empty
  std::string product_name;
  std::string serial;
  std::string speed;    ///< Mbit/s as sysfs says: "1.5", "12", "480", "5000", ...
  std::string version;  ///< bcdUSB as sysfs says, trimmed: "2.00", "3.20"
  std::uint8_t device_class = 0;
  bool authorized = true;
  bool is_hub = false;       ///< bDeviceClass 9
  bool is_root_hub = false;  ///< sysname "usbN"
  std::string driver;        ///< device driver ("usb"), empty when unbound
  std::vector<Interface> interfaces;
  /// Mount points of filesystems on block devices below it (btrfs by member device), and
  /// kSwapMount for an active swap area on one.
  std::vector<std::string> mounts;
  std::string table_name;    ///< USBRECOVER_NAME: the table entry udev matched, empty if none
  std::string table_source;  ///< USBRECOVER_SOURCE: where that entry is ("devices.toml:12")
};

/// The hub port a device is plugged into ("…/1-1:1.0/1-1-port2").
struct Port {
  std::string syspath;           ///< the port's sysfs directory
  unsigned number = 0;           ///< 1-based
  std::optional<bool> disabled;  ///< the `disable` attribute (kernel >= 6.0), nullopt if absent
  std::string peer_syspath;      ///< the USB3/USB2 peer port, empty if none
  std::string connect_type;      ///< "hotplug", "hardwired", "not used", "unknown" or empty
};

/// The hub a device hangs off, with what its hub descriptor says.
struct Hub {
  UsbDevice device;
  unsigned nports = 0;  ///< bNbrPorts, 0 when the descriptor could not be read
  PowerSwitching switching = PowerSwitching::Unknown;
  unsigned power_on_to_good_ms = 0;  ///< bPwrOn2PwrGood * 2
  bool superspeed = false;           ///< a USB3 (SuperSpeed) hub
  std::string descriptor_error;      ///< why the hub descriptor could not be read; empty if read
};

/// The PCI (or platform) host controller that a bus belongs to.
struct Controller {
  std::string syspath;          ///< "/sys/devices/pci0000:00/0000:00:14.0"
  std::string name;             ///< "0000:00:14.0"
  std::string subsystem;        ///< "pci", "platform", ...
  std::string driver;           ///< "xhci_hcd", "ehci-pci", ...
  std::vector<unsigned> buses;  ///< every bus (root hub) the controller provides
};

/// One device and its surroundings, as needed to decide on and carry out a recovery.
struct Snapshot {
  UsbDevice device;
  std::optional<Hub> hub;       ///< parent hub; nullopt only for a root hub itself
  std::optional<Port> port;     ///< the parent hub's port the device is on
  std::optional<Hub> peer_hub;  ///< for a USB3 hub: the hub that owns the peer port
  /// Every other device below the parent hub (any depth), including those on the peer hub.
  std::vector<UsbDevice> hub_siblings;
  /// Devices on other ports that share this port's power switch (all ports of a ganged hub).
  std::vector<UsbDevice> gang_siblings;
  /// Every other non-root-hub device on the controller's buses, when the snapshot was read with
  /// SnapshotScope::Controller (see controller_devices_read).
  std::vector<UsbDevice> controller_devices;
  /// False when the reader did not list the controller's devices (SnapshotScope::Hub): the
  /// `controller` method then refuses, since its collateral would be unknown.
  bool controller_devices_read = true;
  Controller controller;
  /// False for a port on which nothing enumerated (a port entry's recovery): `device` then only
  /// names the port (sysname and port path), and only methods that act on the port apply.
  bool device_present = true;
  /// The tty the device was asked for by (the port of a serial NUT instance), empty otherwise. On
  /// a device with several ttys (FT2232, CP2105), every method drops all of them: the users of
  /// the others are collateral (their users are read only when there are several).
  std::string own_tty;
};

/// The port path of a device from its sysfs name: "1-1.2" stays, a root hub "usb1" becomes "1-0".
std::string port_path_of(const std::string& sysname);

/// The hub a port path hangs off and the port's number: "1-1.2" -> {"1-1", 2}, "1-2" -> {"usb1",
/// 2}. nullopt for anything that is not a port path of a device (a root hub's "1-0" included).
std::optional<std::pair<std::string, unsigned>> hub_of_port_path(std::string_view port_path);

}  // namespace usbrecover
