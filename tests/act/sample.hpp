// SPDX-License-Identifier: MIT
#pragma once

// Snapshots for the planner and executor tests: an xHCI controller with a USB3 hub (USB2 half
// 1-1, SuperSpeed half 2-1), a 0665:5161 UPS on port 2, a mounted stick on port 3 and a
// receiver on port 4; and a SuperSpeed disk on port 1 of the hub's SuperSpeed half.

#include <string>
#include <utility>

#include "snapshot/snapshot.hpp"

namespace usbrecover::test {

inline Interface iface(const std::string& sysname, const std::string& driver) {
  Interface i;
  i.sysname = sysname;
  i.driver = driver;
  return i;
}

inline const std::string kPci = "/sys/devices/pci0000:00/0000:00:14.0";

inline UsbDevice usb_device(const std::string& sysname, unsigned bus, unsigned dev, std::uint16_t vid,
                            std::uint16_t pid) {
  UsbDevice d;
  d.sysname = sysname;
  d.port_path = sysname;
  d.busnum = bus;
  d.devnum = dev;
  d.vendor = vid;
  d.product = pid;
  char node[32];
  std::snprintf(node, sizeof node, "/dev/bus/usb/%03u/%03u", bus, dev);
  d.devnode = node;
  // 1-1.2 lives below usb1/1-1; good enough for tests that only compare strings.
  std::string parent = sysname.substr(0, sysname.rfind('.'));
  d.syspath = kPci + "/usb" + std::to_string(bus) + "/" + (parent == sysname ? "" : parent + "/") + sysname;
  return d;
}

inline UsbDevice root_hub(unsigned bus) {
  UsbDevice d = usb_device("usb" + std::to_string(bus), bus, 1, 0x1d6b, bus == 2 ? 3 : 2);
  d.syspath = kPci + "/usb" + std::to_string(bus);
  d.port_path = std::to_string(bus) + "-0";
  d.is_hub = d.is_root_hub = true;
  return d;
}

inline Snapshot ups_snapshot() {
  Snapshot s;
  s.device = usb_device("1-1.2", 1, 4, 0x0665, 0x5161);
  s.device.product_name = "USB to Serial";
  s.device.interfaces = {iface("1-1.2:1.0", "usbhid")};

  Hub hub;
  hub.device = usb_device("1-1", 1, 2, 0x05e3, 0x0610);
  hub.device.is_hub = true;
  hub.nports = 4;
  hub.switching = PowerSwitching::PerPort;
  hub.power_on_to_good_ms = 220;
  s.hub = hub;

  Hub peer;
  peer.device = usb_device("2-1", 2, 2, 0x05e3, 0x0626);
  peer.device.is_hub = true;
  peer.nports = 4;
  peer.switching = PowerSwitching::PerPort;
  peer.power_on_to_good_ms = 100;
  peer.superspeed = true;
  s.peer_hub = peer;

  Port port;
  port.syspath = hub.device.syspath + "/1-1:1.0/1-1-port2";
  port.number = 2;
  port.peer_syspath = peer.device.syspath + "/2-1:1.0/2-1-port2";
  s.port = port;

  UsbDevice stick = usb_device("1-1.3", 1, 5, 0x0781, 0x5567);
  stick.manufacturer = "SanDisk";
  stick.product_name = "Cruzer";
  stick.mounts = {"/media/stick"};
  UsbDevice receiver = usb_device("1-1.4", 1, 6, 0x046d, 0xc52b);
  s.hub_siblings = {stick, receiver};
  s.controller_devices = {hub.device, peer.device, stick, receiver};
  s.controller = Controller{
      .syspath = kPci, .name = "0000:00:14.0", .subsystem = "pci", .driver = "xhci_hcd", .buses = {1, 2}};
  return s;
}

/// A USB 3.20 disk at 5000 Mbit/s on port 1 of the hub's SuperSpeed half (2-1.1), the hub's
/// USB 2.0 half (1-1, with the UPS, the stick and the receiver) its peer.
inline Snapshot superspeed_snapshot() {
  Snapshot s = ups_snapshot();
  std::swap(s.hub, s.peer_hub);
  s.hub->device.speed = "5000";
  s.peer_hub->device.speed = "480";
  s.device = usb_device("2-1.1", 2, 3, 0x0bc2, 0xab38);
  s.device.manufacturer = "Seagate";
  s.device.product_name = "Backup+ Hub BK";
  s.device.speed = "5000";
  s.device.version = "3.20";
  s.device.interfaces = {iface("2-1.1:1.0", "uas")};
  s.port->syspath = s.hub->device.syspath + "/2-1:1.0/2-1-port1";
  s.port->number = 1;
  s.port->peer_syspath = s.peer_hub->device.syspath + "/1-1:1.0/1-1-port1";
  return s;
}

/// The same, but the hub switches all ports together.
inline Snapshot ganged_snapshot() {
  Snapshot s = ups_snapshot();
  s.hub->switching = PowerSwitching::Ganged;
  s.peer_hub->switching = PowerSwitching::Ganged;
  s.gang_siblings = s.hub_siblings;
  return s;
}

}  // namespace usbrecover::test
