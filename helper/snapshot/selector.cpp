// SPDX-License-Identifier: MIT
#include "snapshot/selector.hpp"

#include <charconv>

#include "util/text.hpp"

namespace usbrecover {

namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::optional<unsigned> to_uint(std::string_view s, unsigned max) {
  if (!all_digits(s) || s.size() > 9) return std::nullopt;
  unsigned v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  if (v > max) return std::nullopt;
  return v;
}

// "1-1.2", "3-10.4.1", "2-0": bus, '-', then port numbers separated by '.'; ports are 1..255
// (a hub has at most 255 ports) except the root hub's "0".
bool is_port_path(std::string_view s) {
  const auto dash = s.find('-');
  if (dash == std::string_view::npos || !to_uint(s.substr(0, dash), 999)) return false;
  std::string_view rest = s.substr(dash + 1);
  if (rest == "0") return true;
  while (true) {
    const auto dot = rest.find('.');
    const auto port = to_uint(rest.substr(0, dot), 255);
    if (!port || *port == 0) return false;
    if (dot == std::string_view::npos) return true;
    rest = rest.substr(dot + 1);
  }
}

Error selector_error(std::string_view text, std::string reason) {
  return Error{"", "selector '" + terminal_safe(text) + "'", std::move(reason), 0};
}

std::string strip_trailing_slashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

Result<Selector> parse_selector(std::string_view text, std::optional<std::string> serial) {
  if (text.empty()) return selector_error(text, "empty selector");
  if (serial && serial->empty()) return selector_error(text, "empty --serial");
  Selector sel;
  sel.text = std::string(text);
  sel.serial = std::move(serial);

  if (text.size() == 9 && text[4] == ':') {
    if (auto id = parse_usb_id(text); id && id->product) {
      sel.kind = Selector::Kind::Id;
      sel.vendor = id->vendor;
      sel.product = *id->product;
      return sel;
    }
  }
  if (const auto slash = text.find('/'); slash != std::string_view::npos && text[0] != '/') {
    const auto bus = text.substr(0, slash);
    const auto dev = text.substr(slash + 1);
    if (all_digits(bus) && all_digits(dev)) {
      const auto b = to_uint(bus, 999);
      const auto d = to_uint(dev, 127);  // USB addresses are 7 bits
      if (!b || !d || *b == 0 || *d == 0) {
        return selector_error(text, "bus must be 1-999 and device 1-127 in BBB/DDD");
      }
      sel.kind = Selector::Kind::BusDev;
      sel.bus = *b;
      sel.dev = *d;
      return sel;
    }
  }
  if (text.starts_with("usb") && to_uint(text.substr(3), 999)) {
    sel.kind = Selector::Kind::PortPath;
    sel.port_path = std::to_string(*to_uint(text.substr(3), 999)) + "-0";
    return sel;
  }
  if (is_port_path(text)) {
    sel.kind = Selector::Kind::PortPath;
    sel.port_path = std::string(text);
    return sel;
  }
  if (text.starts_with("/sys/") || text.starts_with("/devices/")) {
    if (text.find("/../") != std::string_view::npos || text.ends_with("/..")) {
      return selector_error(text, "a sysfs path must not contain '..'");
    }
    sel.kind = Selector::Kind::SysPath;
    sel.syspath =
        strip_trailing_slashes(text.starts_with("/sys/") ? std::string(text) : "/sys" + std::string(text));
    return sel;
  }
  sel.kind = Selector::Kind::Product;
  sel.product_name = std::string(text);
  return sel;
}

bool selector_matches(const Selector& sel, const UsbDevice& d) {
  if (sel.serial && d.serial != *sel.serial) return false;
  switch (sel.kind) {
    case Selector::Kind::Id:
      return d.vendor == sel.vendor && d.product == sel.product;
    case Selector::Kind::BusDev:
      return d.busnum == sel.bus && d.devnum == sel.dev;
    case Selector::Kind::PortPath:
      return d.port_path == sel.port_path;
    case Selector::Kind::SysPath: {
      if (d.syspath == sel.syspath) return true;
      // /sys/bus/usb/devices/NAME is a link to the device; compare by name without resolving.
      constexpr std::string_view kBusDir = "/sys/bus/usb/devices/";
      return sel.syspath.starts_with(kBusDir) && sel.syspath.substr(kBusDir.size()) == d.sysname;
    }
    case Selector::Kind::Product:
      return d.product_name == sel.product_name;
  }
  return false;
}

std::string describe_candidate(const UsbDevice& d) {
  std::string s = d.port_path + " " + hex4(d.vendor) + ":" + hex4(d.product);
  if (!d.serial.empty()) s += " serial '" + terminal_safe(d.serial) + "'";
  std::string name = d.manufacturer;
  if (!d.product_name.empty()) name += (name.empty() ? "" : " ") + d.product_name;
  if (!name.empty()) s += " (" + terminal_safe(name) + ")";
  return s;
}

Resolution resolve_selector(const Selector& sel, const std::vector<UsbDevice>& devices) {
  Resolution r;
  for (const auto& d : devices) {
    if (selector_matches(sel, d)) r.matches.push_back(d);
  }
  std::string object = "'" + terminal_safe(sel.text) + "'";
  if (sel.serial) object += " serial '" + terminal_safe(*sel.serial) + "'";
  if (r.not_found()) {
    r.error = Error{"", object, "no such USB device", 0};
  } else if (r.ambiguous()) {
    std::string reason = std::to_string(r.matches.size()) + " devices match; name one by port path";
    if (sel.kind != Selector::Kind::PortPath && sel.kind != Selector::Kind::SysPath) reason += " or --serial";
    reason += ":";
    for (const auto& d : r.matches) reason += "\n  " + describe_candidate(d);
    r.error = Error{"", object, reason, 0};
  }
  return r;
}

}  // namespace usbrecover
