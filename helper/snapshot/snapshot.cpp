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

std::optional<std::pair<std::string, unsigned>> hub_of_port_path(std::string_view port_path) {
  auto number = [](std::string_view n) -> std::optional<unsigned> {
    if (n.empty() || n.size() > 3 || n.front() == '0' ||
        n.find_first_not_of("0123456789") != std::string_view::npos)
      return std::nullopt;
    return static_cast<unsigned>(std::stoul(std::string(n)));
  };
  const auto dash = port_path.find('-');
  if (dash == std::string_view::npos || !number(port_path.substr(0, dash))) return std::nullopt;
  // Every level below the bus must be a port number.
  std::string_view rest = port_path.substr(dash + 1);
  std::optional<unsigned> last;
  for (int depth = 0; depth < 7 && !rest.empty(); ++depth) {
    const auto dot = rest.find('.');
    last = number(rest.substr(0, dot));
    if (!last) return std::nullopt;
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
  }
  if (!rest.empty() || !last) return std::nullopt;
  const auto dot = port_path.rfind('.');
  if (dot != std::string_view::npos) return std::pair{std::string(port_path.substr(0, dot)), *last};
  return std::pair{"usb" + std::string(port_path.substr(0, dash)), *last};
}

}  // namespace usbrecover
