// SPDX-License-Identifier: MIT
#pragma once

// Snapshots built by hand for the planner's tests, and what a decision will try: a UPS on port 2 of an
// external hub with per-port power, a mounted USB stick on port 3 of the same hub, a keyboard on the root
// hub; and a SuperSpeed disk alone on an xHCI SuperSpeed root port.

#include <vector>

#include "decide/planner.hpp"
#include "snapshot/snapshot.hpp"

namespace usbrecover::testing {

inline UsbDevice usb_device(std::string sysname, std::uint16_t vid, std::uint16_t pid, unsigned devnum) {
  UsbDevice d;
  d.sysname = sysname;
  d.port_path = sysname;
  d.syspath = "/sys/devices/pci0000:00/0000:00:14.0/usb1/" +
              (sysname.find('.') == std::string::npos ? sysname : "1-1/" + sysname);
  d.busnum = 1;
  d.devnum = devnum;
  d.devnode = "/dev/bus/usb/001/00" + std::to_string(devnum);
  d.vendor = vid;
  d.product = pid;
  return d;
}

inline Snapshot ups_behind_hub() {
  Snapshot s;
  s.device = usb_device("1-1.2", 0x0665, 0x5161, 4);
  s.device.manufacturer = "INNO TECH";
  s.device.product_name = "USB to Serial";
  s.device.interfaces = {Interface{"1-1.2:1.0", 0, 3, 0, 0, "usbhid", {}, {}}};

  Hub hub;
  hub.device = usb_device("1-1", 0x05e3, 0x0608, 2);
  hub.device.is_hub = true;
  hub.nports = 4;
  hub.switching = PowerSwitching::PerPort;
  hub.power_on_to_good_ms = 100;
  s.hub = hub;

  Port port;
  port.syspath = hub.device.syspath + "/1-1:1.0/1-1-port2";
  port.number = 2;
  port.disabled = false;
  s.port = port;

  UsbDevice stick = usb_device("1-1.3", 0x0781, 0x5567, 5);
  stick.product_name = "Cruzer";
  stick.mounts = {"/media/usb"};
  s.hub_siblings = {stick};

  UsbDevice keyboard = usb_device("1-4", 0x046d, 0xc31c, 3);
  s.controller_devices = {hub.device, stick, keyboard};
  s.controller =
      Controller{"/sys/devices/pci0000:00/0000:00:14.0", "0000:00:14.0", "pci", "xhci_hcd", {1, 2}};
  return s;
}

/// The same UPS alone on its hub.
inline Snapshot ups_alone_on_hub() {
  Snapshot s = ups_behind_hub();
  s.hub_siblings.clear();
  s.controller_devices = {s.hub->device};
  return s;
}

/// The UPS's port after its host controller died: nothing below the root hubs, no hub to read.
inline Snapshot ups_on_a_dead_controller() {
  Snapshot s = ups_behind_hub();
  s.device_present = false;
  s.device.vendor = s.device.product = 0;
  s.hub.reset();
  s.port.reset();
  s.hub_siblings.clear();
  s.controller_devices.clear();
  s.controller_devices_read = true;
  return s;
}

/// A USB 3.20 disk at 5000 Mbit/s alone on port 4 of the xHCI SuperSpeed root hub usb2.
inline Snapshot disk_at_superspeed() {
  Snapshot s = ups_alone_on_hub();
  s.device = usb_device("2-4", 0x0bc2, 0xab38, 2);
  s.device.busnum = 2;
  s.device.devnode = "/dev/bus/usb/002/002";
  s.device.speed = "5000";
  s.device.version = "3.20";
  s.device.interfaces = {Interface{"2-4:1.0", 0, 8, 6, 0x62, "uas", {}, {}}};
  s.hub->device = usb_device("usb2", 0x1d6b, 0x0003, 1);
  s.hub->device.busnum = 2;
  s.hub->device.devnode = "/dev/bus/usb/002/001";
  s.hub->device.speed = "5000";
  s.hub->device.is_hub = s.hub->device.is_root_hub = true;
  s.hub->superspeed = true;
  s.hub->switching = PowerSwitching::None;
  s.port->syspath = s.hub->device.syspath + "/2-0:1.0/usb2-port4";
  s.port->number = 4;
  s.controller_devices.clear();
  return s;
}

/// The methods a decision will try, in order.
inline std::vector<Method> tried(const Decision& d) {
  std::vector<Method> out;
  for (const auto& r : d.ladder)
    if (r.usable) out.push_back(r.method);
  return out;
}

}  // namespace usbrecover::testing
