// SPDX-License-Identifier: MIT
#include "policy.hpp"

#include <charconv>
#include <cstdio>

namespace usbrecover {

namespace {

constexpr std::array<std::string_view, kAllMethods.size()> kMethodNames = {
    "device", "warm-reset", "rebind", "authorize", "port-power", "hub", "controller"};
constexpr std::array<std::string_view, kAllProbes.size()> kProbeNames = {"none", "open", "descriptor",
                                                                         "megatec-q1", "control"};

template <typename Names>
std::string join_names(const Names& names) {
  std::string out;
  for (auto n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

std::optional<unsigned> hex_digit(char c) {
  if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<unsigned>(c - 'A' + 10);
  return std::nullopt;
}

std::optional<std::uint16_t> parse_hex4(std::string_view s) {
  if (s.size() != 4) return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    auto d = hex_digit(c);
    if (!d) return std::nullopt;
    v = v * 16 + *d;
  }
  return static_cast<std::uint16_t>(v);
}

}  // namespace

std::string_view to_string(Method m) {
  return kMethodNames.at(static_cast<std::size_t>(m));
}
std::string_view to_string(Probe p) {
  return kProbeNames.at(static_cast<std::size_t>(p));
}

std::optional<Method> method_from_string(std::string_view s) {
  for (std::size_t i = 0; i < kMethodNames.size(); ++i)
    if (kMethodNames[i] == s) return kAllMethods[i];
  return std::nullopt;
}

std::optional<Probe> probe_from_string(std::string_view s) {
  for (std::size_t i = 0; i < kProbeNames.size(); ++i)
    if (kProbeNames[i] == s) return kAllProbes[i];
  return std::nullopt;
}

std::string method_names() {
  return join_names(kMethodNames);
}
std::string probe_names() {
  return join_names(kProbeNames);
}

std::optional<Millis> parse_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  constexpr std::int64_t kMax = kMaxDuration.count();
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    std::int64_t n = 0;
    const char* begin = s.data() + i;
    auto [ptr, ec] = std::from_chars(begin, s.data() + s.size(), n);
    if (ec != std::errc() || ptr == begin || *begin == '-' || *begin == '+') return std::nullopt;
    i = static_cast<std::size_t>(ptr - s.data());
    std::int64_t unit = 0;
    if (s.substr(i, 2) == "ms") {
      unit = 1;
      i += 2;
    } else if (i < s.size() && s[i] == 's') {
      unit = 1000;
      ++i;
    } else if (i < s.size() && s[i] == 'm') {
      unit = 60 * 1000;
      ++i;
    } else if (i < s.size() && s[i] == 'h') {
      unit = 3600 * 1000;
      ++i;
    } else {
      return std::nullopt;
    }
    if (n > kMax / unit) return std::nullopt;
    total += n * unit;
    if (total > kMax) return std::nullopt;
  }
  return Millis(total);
}

std::string format_duration(Millis d) {
  auto ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  const std::pair<std::int64_t, const char*> units[] = {{3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
  for (auto [size, name] : units) {
    if (ms >= size) {
      out += std::to_string(ms / size) + name;
      ms %= size;
    }
  }
  return out;
}

std::string hex4(std::uint16_t v) {
  // Not snprintf: usbrecover-gen calls this a few times for each of thousands of entries.
  constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out(4, '0');
  for (std::size_t i = 0; i < 4; ++i) out[3 - i] = kDigits[(v >> (4 * i)) & 0xF];
  return out;
}

std::string to_string(const UsbId& id) {
  return hex4(id.vendor) + ":" + (id.product ? hex4(*id.product) : std::string("*"));
}

std::optional<UsbId> parse_usb_id(std::string_view s) {
  if (s.size() < 6 || s[4] != ':') return std::nullopt;
  auto vendor = parse_hex4(s.substr(0, 4));
  if (!vendor) return std::nullopt;
  auto rest = s.substr(5);
  if (rest == "*") return UsbId{*vendor, std::nullopt};
  auto product = parse_hex4(rest);
  if (!product) return std::nullopt;
  return UsbId{*vendor, *product};
}

std::string format_mode(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode);
  return buf;
}

std::string join_methods(const std::vector<Method>& methods) {
  std::string out;
  for (auto m : methods) {
    if (!out.empty()) out += ',';
    out += to_string(m);
  }
  return out;
}

std::optional<std::vector<Method>> split_methods(std::string_view s) {
  std::vector<Method> out;
  while (!s.empty()) {
    auto comma = s.find(',');
    auto m = method_from_string(s.substr(0, comma));
    if (!m) return std::nullopt;
    out.push_back(*m);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

}  // namespace usbrecover
