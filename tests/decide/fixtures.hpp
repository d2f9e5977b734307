// SPDX-License-Identifier: MIT
#pragma once

// Snapshots built by hand for the planner's tests: a UPS on port 2 of an external hub with
// per-port power, a mounted USB stick on port 3 of the same hub, a keyboard on the root hub.

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

}  // namespace usbrecover::testing
