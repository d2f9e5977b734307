// SPDX-License-Identifier: MIT
#include "decide/ups_conf.hpp"

#include <regex.h>
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <optional>

namespace usbrecover {

namespace {

/// NUT drivers that talk to their UPS over USB only: they ignore `port` (usually "auto").
constexpr std::array<std::string_view, 7> kUsbDrivers = {"usbhid-ups",     "blazer_usb",   "bcmxcp_usb",
                                                         "tripplite_usb",  "richcomm_usb", "riello_usb",
                                                         "nutdrv_atcl_usb"};

/// nutdrv_qx speaks USB with `port = auto` and serial with a port under /dev/.
constexpr std::string_view kUsbOrSerialDriver = "nutdrv_qx";

/// Drivers that reach their UPS over the network or simulate one: never a device of ours, whatever
/// their port says (drivers that also speak TCP, like apc_modbus, name a host there, not /dev/).
constexpr std::array<std::string_view, 7> kNetworkDrivers = {
    "snmp-ups", "netxml-ups", "nut-ipmipsu", "dummy-ups", "clone", "clone-outlet", "apcupsd-ups"};

template <std::size_t N>
bool listed(const std::array<std::string_view, N>& list, const std::string& driver) {
  return std::find(list.begin(), list.end(), driver) != list.end();
}

Error line_error(unsigned line, std::string reason) {
  return Error{
      .context = {}, .object = "line " + std::to_string(line), .reason = std::move(reason), .errnum = 0};
}

/// Splits one line into words: bare words, "quoted strings" with \-escapes, '=' on its own.
Result<std::vector<std::string>> words(std::string_view s, unsigned line) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
    } else if (c == '#') {
      break;
    } else if (c == '=') {
      out.emplace_back("=");
      ++i;
    } else if (c == '"') {
      std::string w;
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          w += s[i + 1];
          i += 2;
        } else if (s[i] == '"') {
          closed = true;
          ++i;
          break;
        } else {
          w += s[i++];
        }
      }
      if (!closed) return line_error(line, "unterminated quoted value");
      out.push_back(std::move(w));
    } else {
      std::string w;
      while (i < s.size() && std::string_view(" \t\r=#\"").find(s[i]) == std::string_view::npos) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        w += s[i++];
      }
      out.push_back(std::move(w));
    }
  }
  return out;
}

/// Compiles a NUT match value as NUT does: a POSIX extended regular expression, ignoring
/// case, that must match the whole value.
std::optional<regex_t> compile(const std::string& pattern) {
  regex_t re;
  if (::regcomp(&re, ("^(" + pattern + ")$").c_str(), REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0)
    return std::nullopt;
  return re;
}

bool full_match(const std::string& pattern, const std::string& value) {
  auto re = compile(pattern);
  if (!re) return false;
  bool hit = ::regexec(&*re, value.c_str(), 0, nullptr, 0) == 0;
  ::regfree(&*re);
  return hit;
}

}  // namespace

std::optional<std::string> UpsSection::get(std::string_view key) const {
  std::optional<std::string> v;
  for (const auto& [k, value] : settings)
    if (k == key) v = value;
  return v;
}

Result<std::vector<UpsSection>> parse_ups_conf(std::string_view text) {
  std::vector<UpsSection> sections;
  unsigned n = 0;
  while (!text.empty()) {
    ++n;
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;
    if (line[first] == '[') {
      auto close = line.find(']', first);
      if (close == std::string_view::npos || close == first + 1)
        return line_error(n, "malformed section header");
      sections.push_back({std::string(line.substr(first + 1, close - first - 1)), n, {}});
      continue;
    }
    auto w = words(line, n);
    if (!w) return w.error();
    if (w->empty()) continue;
    std::string key = (*w)[0];
    std::string value;
    if (w->size() == 3 && (*w)[1] == "=") {
      value = (*w)[2];
    } else if (w->size() == 2 && (*w)[1] == "=") {
      value.clear();
    } else if (w->size() != 1) {
      return line_error(n, "expected 'key = value'");
    }
    // Settings before the first section are global driver options; keep them apart.
    if (sections.empty()) continue;
    sections.back().settings.emplace_back(std::move(key), std::move(value));
  }
  return sections;
}

bool NutMatcher::matches(const UsbDevice& d) const {
  auto ok = [](const std::optional<std::string>& pattern, const std::string& value) {
    return !pattern || full_match(*pattern, value);
  };
  // NUT prints bus and device numbers with three digits ("001"), as libusb's paths do.
  char busnum[8], devnum[8];
  std::snprintf(busnum, sizeof busnum, "%03u", d.busnum);
  std::snprintf(devnum, sizeof devnum, "%03u", d.devnum);
  auto last_port = d.port_path.substr(d.port_path.find_last_of(".-") + 1);
  return ok(vendorid, hex4(d.vendor)) && ok(productid, hex4(d.product)) && ok(serial, d.serial) &&
         ok(bus, busnum) && ok(device, devnum) && ok(busport, last_port);
}

Result<NutLookup> nut_matcher(const std::vector<UpsSection>& sections, const std::string& name) {
  auto it =
      std::find_if(sections.rbegin(), sections.rend(), [&](const UpsSection& s) { return s.name == name; });
  if (it == sections.rend())
    return Error{
        .context = {}, .object = "[" + name + "]", .reason = "no such section in ups.conf", .errnum = 0};
  NutLookup out;
  std::string driver = it->get("driver").value_or("");
  std::string port = it->get("port").value_or("");
  bool usb = listed(kUsbDrivers, driver) || (driver == kUsbOrSerialDriver && !port.starts_with("/dev/"));
  if (!usb) {
    if (!driver.empty() && !listed(kNetworkDrivers, driver) && port.starts_with("/dev/")) {
      out.serial_port = port;
      return out;
    }
    out.not_usb = true;
    out.why =
        driver.empty() ? "section [" + name + "] names no driver" : "driver " + driver + " does not talk USB";
    return out;
  }
  NutMatcher m;
  m.section = name;
  m.driver = driver;
  m.vendorid = it->get("vendorid");
  m.productid = it->get("productid");
  m.serial = it->get("serial");
  m.bus = it->get("bus");
  m.device = it->get("device");
  m.busport = it->get("busport");
  for (const auto* p : {&m.vendorid, &m.productid, &m.serial, &m.bus, &m.device, &m.busport}) {
    if (!*p) continue;
    auto re = compile(**p);
    if (!re)
      return Error{.context = {},
                   .object = "[" + name + "]",
                   .reason = "'" + **p + "' is not a valid pattern",
                   .errnum = 0};
    ::regfree(&*re);
  }
  out.matcher = std::move(m);
  return out;
}

}  // namespace usbrecover
