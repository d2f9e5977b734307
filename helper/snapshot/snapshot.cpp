// SPDX-License-Identifier: MIT
#include "snapshot/snapshot.hpp"

namespace usbrecover {

std::string_view to_string(PowerSwitching s) {
  switch (s) {
    case PowerSwitching::Unknown:
      return "unknown";
    case PowerSwitching::Ganged:
      return "ganged";
    case PowerSwitching::PerPort:
      return "per-port";
    case PowerSwitching::None:
      return "none";
  }
  return "unknown";
}

std::string port_path_of(const std::string& sysname) {
  // The kernel names a root hub "usbN" but its interfaces "N-0:1.0"; use the latter form.
  if (sysname.size() > 3 && sysname.starts_with("usb")) {
    const std::string bus = sysname.substr(3);
    if (bus.find_first_not_of("0123456789") == std::string::npos) return bus + "-0";
  }
  return sysname;
}

}  // namespace usbrecover
