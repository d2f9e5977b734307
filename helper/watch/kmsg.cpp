// SPDX-License-Identifier: MIT
#include "watch/kmsg.hpp"

#include <array>
#include <charconv>

namespace usbrecover {

namespace {

template <typename T>
std::optional<T> number(std::string_view s) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

bool digits(std::string_view s, std::size_t max) {
  return !s.empty() && s.size() <= max && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// "1-1.2": a bus, '-', then up to seven dot-separated port numbers.
bool device_name(std::string_view s) {
  const auto dash = s.find('-');
  if (dash == std::string_view::npos || !digits(s.substr(0, dash), 3)) return false;
  std::string_view rest = s.substr(dash + 1);
  for (int depth = 0; depth < 7; ++depth) {
    const auto dot = rest.find('.');
    if (!digits(rest.substr(0, dot), 3)) return false;
    if (dot == std::string_view::npos) return true;
    rest.remove_prefix(dot + 1);
  }
  return false;
}

// The messages of a failing enumeration in drivers/usb/core/hub.c and xhci (6.1 and later),
// after "usb NAME: ". The last one means the kernel has given up on the port.
constexpr std::array<std::string_view, 7> kEnumerationFailures = {
    "device descriptor read/",                 // read/8, read/64, read/all, each with its error
    "device not accepting address",            // SET_ADDRESS failed
    "Device not responding to setup address",  // xhci's Address Device command
    "can't read configurations",
    "unable to read config index",
    "Cannot enable. Maybe the USB cable is bad?",
    "unable to enumerate USB device",
};
constexpr std::string_view kGaveUp = "unable to enumerate USB device";

}  // namespace

std::optional<KmsgRecord> parse_kmsg_record(std::string_view text) {
  if (text.size() > kMaxKmsgRecord) return std::nullopt;
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  const auto nl = text.find('\n');
  std::string_view header = text.substr(0, nl);
  std::string_view rest = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);

  const auto semi = header.find(';');
  if (semi == std::string_view::npos) return std::nullopt;
  std::string_view prefix = header.substr(0, semi);
  std::array<std::string_view, 3> f{};
  for (auto& field : f) {
    const auto comma = prefix.find(',');
    if (comma == std::string_view::npos) return std::nullopt;  // FLAGS (and more) follow
    field = prefix.substr(0, comma);
    prefix.remove_prefix(comma + 1);
  }
  auto pri = number<unsigned>(f[0]);
  auto seq = number<std::uint64_t>(f[1]);
  auto usec = number<std::uint64_t>(f[2]);
  if (!pri || *pri > 1023 || !seq || !usec) return std::nullopt;

  KmsgRecord r;
  r.facility = *pri >> 3;
  r.level = *pri & 7;
  r.seq = *seq;
  r.usec = *usec;
  r.message = std::string(header.substr(semi + 1));
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (line.empty() || line.front() != ' ') return std::nullopt;
    line.remove_prefix(1);
    const auto eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) return std::nullopt;
    r.dict.emplace_back(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
  }
  return r;
}

std::vector<std::string_view> split_kmsg_records(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = std::string_view::npos;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto end = text.find('\n', pos);
    const std::size_t next = end == std::string_view::npos ? text.size() : end + 1;
    const bool continuation = text[pos] == ' ';
    const bool blank = text[pos] == '\n';
    if (!continuation && !blank) {
      if (start != std::string_view::npos) out.push_back(text.substr(start, pos - start));
      start = pos;
    }
    pos = next;
  }
  if (start != std::string_view::npos) out.push_back(text.substr(start));
  return out;
}

std::string_view to_string(KernelEvent::Kind k) {
  switch (k) {
    case KernelEvent::Kind::EnumerationFailed:
      return "enumeration-failed";
    case KernelEvent::Kind::OverCurrent:
      return "over-current";
    case KernelEvent::Kind::ControllerDied:
      return "controller-died";
  }
  return "";
}

std::optional<std::string> port_path_of_kernel_name(std::string_view name) {
  const auto at = name.rfind("-port");
  if (at == std::string_view::npos) {
    if (device_name(name)) return std::string(name);
    return std::nullopt;
  }
  const std::string_view hub = name.substr(0, at);
  const std::string_view port = name.substr(at + 5);
  if (!digits(port, 3) || port.front() == '0') return std::nullopt;
  if (hub.starts_with("usb") && digits(hub.substr(3), 3))
    return std::string(hub.substr(3)) + "-" + std::string(port);
  if (device_name(hub)) return std::string(hub) + "." + std::string(port);
  return std::nullopt;
}

std::optional<KernelEvent> recognise_kernel_message(std::string_view message) {
  // "DRIVER DEVICE: TEXT", as dev_err() and friends print.
  const auto colon = message.find(": ");
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view prefix = message.substr(0, colon);
  const std::string_view text = message.substr(colon + 2);
  const auto space = prefix.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view driver = prefix.substr(0, space);
  const std::string_view device = prefix.substr(space + 1);
  if (device.empty() || device.find(' ') != std::string_view::npos) return std::nullopt;

  KernelEvent e;
  e.message = std::string(message);
  if (driver == "usb") {
    auto port = port_path_of_kernel_name(device);
    if (!port) return std::nullopt;
    if (text == "over-current condition" || text.starts_with("over-current change")) {
      e.kind = KernelEvent::Kind::OverCurrent;
      e.port = *port;
      return e;
    }
    for (std::string_view failure : kEnumerationFailures) {
      if (!text.starts_with(failure)) continue;
      e.kind = KernelEvent::Kind::EnumerationFailed;
      e.port = *port;
      e.gave_up = failure == kGaveUp;
      return e;
    }
    return std::nullopt;
  }
  // usb_hc_died() and xhci's watchdog, on the controller's own device.
  if (text.starts_with("HC died") || text.starts_with("xHCI host controller not responding, assume dead")) {
    e.kind = KernelEvent::Kind::ControllerDied;
    e.controller = std::string(device);
    return e;
  }
  return std::nullopt;
}

std::optional<KernelEvent> recognise_kernel_record(const KmsgRecord& record) {
  if (record.facility != 0) return std::nullopt;
  return recognise_kernel_message(record.message);
}

}  // namespace usbrecover
