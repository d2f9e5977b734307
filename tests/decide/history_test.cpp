// SPDX-License-Identifier: MIT
#include "decide/history.hpp"

#include <gtest/gtest.h>

namespace usbrecover {
namespace {

TEST(History, RoundTripsHostileText) {
  History h;
  h.attempts = {{1, Method::PortPower, true, "verified"},
                {2, Method::Device, false, "reset failed: Broken pipe\n-x %"}};
  h.services = {{3, "nut-driver@my ups.service", true, "exit-code", "", "1"}};
  h.failure_streak = 12;
  h.last_failure = "could not recover 1-1.2: not back";
  std::string text = format_history(h);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 5);
  auto back = parse_history(text);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*back, h);
}

TEST(History, RejectsCorruptOrForeignFiles) {
  EXPECT_EQ(parse_history("").error().message(), "line 0: empty file");
  EXPECT_EQ(parse_history("hello\n").error().message(), "line 1: not a usbrecover history file");
  EXPECT_EQ(parse_history("usbrecover-history 1\nattempt x device failed -\n").error().message(),
            "line 2: malformed attempt");
  EXPECT_EQ(parse_history("usbrecover-history 1\nattempt 5 reboot failed -\n").error().message(),
            "line 2: malformed attempt");
  EXPECT_EQ(parse_history("usbrecover-history 1\nservice 5 ok a b c %4\n").error().message(),
            "line 2: malformed service record");
  EXPECT_EQ(parse_history("usbrecover-history 1\nattempt 5 device failed -").error().message(),
            "line 2: unterminated line");
  EXPECT_EQ(parse_history("usbrecover-history 1\nrm -rf /\n").error().message(), "line 2: unknown record");
  EXPECT_EQ(parse_history("usbrecover-history 1\nstreak 0 x\n").error().message(),
            "line 2: malformed streak");
}

TEST(History, PortKeysStayFileNames) {
  EXPECT_EQ(port_key("1-1.2"), "port-1-1.2");
  // Only digits, '-' and '.' of the port path survive.
  EXPECT_EQ(port_key("../x/y"), "port-..____");
}

TEST(History, PortDirectoriesNameThePortPathOfTheirDevice) {
  EXPECT_EQ(port_path_of_port_dir("/sys/devices/pci0000:00/0000:00:14.0/usb1/1-0:1.0/usb1-port2"), "1-2");
  EXPECT_EQ(port_path_of_port_dir("/sys/devices/.../usb2/2-1/2-1:1.0/2-1-port4"), "2-1.4");
  EXPECT_EQ(port_path_of_port_dir("1-1.3-port1"), "1-1.3.1");
  EXPECT_EQ(port_path_of_port_dir("/sys/devices/.../1-1:1.0"), std::nullopt);
  EXPECT_EQ(port_path_of_port_dir("/x/-port1"), std::nullopt);
  EXPECT_EQ(port_path_of_port_dir("/x/1-1-portx"), std::nullopt);
}

// Regression (one budget per physical device): the SuperSpeed half of a USB3 connector and its
// USB 2.0 half are one connector, so a device that falls back to USB 2.0 keeps its budget.
TEST(History, ConnectorKeyIsTheUsb2HalfOfAUsb3Port) {
  Snapshot ss;
  ss.device.port_path = "2-1.4";
  ss.hub = Hub{};
  ss.hub->superspeed = true;
  ss.port = Port{};
  ss.port->peer_syspath = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/1-1-port4";
  EXPECT_EQ(connector_key(ss), "port-1-1.4");

  Snapshot usb2 = ss;
  usb2.device.port_path = "1-1.4";
  usb2.hub->superspeed = false;
  usb2.port->peer_syspath = "/sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/2-1-port4";
  EXPECT_EQ(connector_key(usb2), "port-1-1.4");

  Snapshot plain;
  plain.device.port_path = "3-2";
  EXPECT_EQ(connector_key(plain), "port-3-2");
  // Whatever the device says about itself does not enter the key.
  plain.device.serial = "new serial";
  plain.device.vendor = 0x1234;
  EXPECT_EQ(connector_key(plain), "port-3-2");
}

}  // namespace
}  // namespace usbrecover
