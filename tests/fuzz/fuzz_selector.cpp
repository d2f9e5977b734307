// SPDX-License-Identifier: MIT
// libFuzzer entry for the selectors users type (`usbrecover reset SELECTOR --serial S`), and that
// units pass. Links only snapshot/selector.cpp and util/text.cpp. The first input line is the
// selector, a second one the serial. Whatever they say, parsing ends, a sysfs path never keeps a
// '..' component, and resolving among a few devices gives exactly the devices that match.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fuzz.hpp"
#include "snapshot/selector.hpp"

namespace {

using usbrecover::UsbDevice;

UsbDevice device(std::string sysname, std::string port_path, unsigned bus, unsigned dev, std::uint16_t vendor,
                 std::uint16_t product, std::string name, std::string serial) {
  UsbDevice d;
  d.syspath = "/sys/devices/pci0000:00/0000:00:14.0/usb" + std::to_string(bus) + "/" + sysname;
  d.sysname = sysname;
  d.port_path = std::move(port_path);
  d.busnum = bus;
  d.devnum = dev;
  d.vendor = vendor;
  d.product = product;
  d.product_name = std::move(name);
  d.serial = std::move(serial);
  return d;
}

/// Twins (same ids and name, serials apart), a hub and a root hub.
std::vector<UsbDevice> sample_devices() {
  return {device("1-1.2", "1-1.2", 1, 4, 0x0665, 0x5161, "USB to Serial", "A1"),
          device("1-1.3", "1-1.3", 1, 5, 0x0665, 0x5161, "USB to Serial", "B2"),
          device("1-1", "1-1", 1, 2, 0x05e3, 0x0608, "USB2.0 Hub", ""),
          device("usb1", "1-0", 1, 1, 0x1d6b, 0x0002, "", "")};
}

bool has_dot_dot_component(const std::string& path) {
  return path.find("/../") != std::string::npos || path.ends_with("/..");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace usbrecover;
  static const std::vector<UsbDevice> devices = sample_devices();
  std::string_view text = fuzz::as_text(data, size);
  std::optional<std::string> serial;
  if (const auto nl = text.find('\n'); nl != std::string_view::npos) {
    serial = std::string(text.substr(nl + 1));
    text = text.substr(0, nl);
  }
  auto sel = parse_selector(text, serial);
  if (!sel) {
    fuzz::check(!sel.error().message().empty(), "an Error has a message");
    return 0;
  }
  if (sel->kind == Selector::Kind::SysPath)
    fuzz::check(!has_dot_dot_component(sel->syspath), "a sysfs selector has no '..' component");
  const Resolution r = resolve_selector(*sel, devices);
  std::size_t matching = 0;
  for (const auto& d : devices) matching += selector_matches(*sel, d) ? 1 : 0;
  fuzz::check(r.matches.size() == matching, "resolving finds every matching device, and only those");
  fuzz::check(r.found() || !r.error.message().empty(), "a selector that finds no single device says why");
  for (const auto& d : r.matches) (void)describe_candidate(d);
  return 0;
}
