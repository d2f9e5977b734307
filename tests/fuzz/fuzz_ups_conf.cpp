// SPDX-License-Identifier: MIT
// libFuzzer entry for ups.conf, which the helper reads on every nut-driver@ start. Links only
// decide/ups_conf.cpp and util/md5.cpp. Whatever the file says, reading it ends, each section is
// found back from its instance name (plain and "MD5_"), and looking one up gives a matcher, a
// serial port, "not USB" or an Error, never a crash; a matcher's patterns reach regexec.

#include <cstddef>
#include <cstdint>
#include <string>

#include "decide/ups_conf.hpp"
#include "fuzz.hpp"
#include "util/md5.hpp"

namespace {

using usbrecover::fuzz::check;

usbrecover::UsbDevice sample_device() {
  usbrecover::UsbDevice d;
  d.syspath = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.2";
  d.sysname = "1-1.2";
  d.port_path = "1-1.2";
  d.busnum = 1;
  d.devnum = 4;
  d.vendor = 0x0665;
  d.product = 0x5161;
  d.manufacturer = "INNO TECH";
  d.product_name = "USB to Serial";
  d.serial = "20100826";
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace usbrecover;
  static const UsbDevice device = sample_device();
  const UpsConf conf = parse_ups_conf(fuzz::as_text(data, size));
  for (const auto& section : conf.sections) {
    auto plain = nut_section_for_instance(conf, section.name);
    check(plain && *plain == section.name, "a section is found by its own name");
    auto hashed = nut_section_for_instance(conf, "MD5_" + md5_hex(section.name + "\n"));
    check(hashed.has_value(), "a section is found by the MD5 name NUT gives its instance");
    auto lookup = nut_matcher(conf, section.name);
    if (!lookup) {
      check(!lookup.error().message().empty(), "an Error has a message");
      continue;
    }
    if (lookup->matcher) {
      volatile bool hit = lookup->matcher->matches(device);
      (void)hit;
    }
  }
  return 0;
}
