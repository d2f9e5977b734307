// SPDX-License-Identifier: MIT
#include "decide/ups_conf.hpp"

#include <gtest/gtest.h>

#include "fixtures.hpp"

namespace usbrecover {
namespace {

constexpr const char* kUpsConf = R"(# NUT ups.conf as users write it
maxretry = 3
pollinterval = 2

[myups]
	driver = nutdrv_qx
	port = auto
	vendorid = 0665
	productid = 5161   # the INNO TECH bridge
	desc = "Rack UPS \"A\""

[other]
driver = "usbhid-ups"
port = auto
vendorid = "051[dD]"
serial = "AS1234"

[serialups]
driver = nutdrv_qx
port = /dev/ttyS0

[snmp]
driver = snmp-ups
port = 10.0.0.5
nolock
)";

TEST(UpsConf, ParsesSectionsQuotingCommentsAndFlags) {
  auto s = parse_ups_conf(kUpsConf);
  ASSERT_TRUE(s.ok()) << s.error().message();
  ASSERT_EQ(s->size(), 4u);
  EXPECT_EQ((*s)[0].name, "myups");
  EXPECT_EQ((*s)[0].get("productid"), "5161");
  EXPECT_EQ((*s)[0].get("desc"), "Rack UPS \"A\"");
  EXPECT_EQ((*s)[1].get("driver"), "usbhid-ups");
  EXPECT_EQ((*s)[3].get("nolock"), "");
  EXPECT_EQ((*s)[0].get("maxretry"), std::nullopt) << "globals are not part of a section";
}

TEST(UpsConf, MatchesTheDeviceASectionMeans) {
  auto s = parse_ups_conf(kUpsConf);
  auto ups = testing::ups_alone_on_hub().device;
  auto m = nut_matcher(*s, "myups");
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->matcher);
  EXPECT_TRUE(m->matcher->matches(ups));
  ups.product = 0x5162;
  EXPECT_FALSE(m->matcher->matches(ups));

  auto other = nut_matcher(*s, "other");
  UsbDevice apc = ups;
  apc.vendor = 0x051d;
  apc.serial = "AS1234";
  EXPECT_TRUE(other->matcher->matches(apc)) << "vendorid is a pattern, compared ignoring case";
  apc.serial = "AS12345";
  EXPECT_FALSE(other->matcher->matches(apc)) << "patterns match the whole value";
}

TEST(UpsConf, BusAndDeviceNumbersMatchAsNutPrintsThem) {
  auto s =
      parse_ups_conf("[u]\ndriver = usbhid-ups\nport = auto\nbus = \"001\"\ndevice = \"004\"\nbusport = 2\n");
  auto m = nut_matcher(*s, "u");
  auto ups = testing::ups_alone_on_hub().device;  // 1-1.2, bus 1, device 4
  EXPECT_TRUE(m->matcher->matches(ups));
  ups.devnum = 5;
  EXPECT_FALSE(m->matcher->matches(ups));
  ups.devnum = 4;
  ups.busnum = 2;
  EXPECT_FALSE(m->matcher->matches(ups));
}

TEST(UpsConf, SerialDriversNameTheirPortAndNetworkDriversAreNotOurs) {
  auto s = parse_ups_conf(kUpsConf);
  auto serial = nut_matcher(*s, "serialups");
  ASSERT_TRUE(serial.ok());
  EXPECT_FALSE(serial->not_usb);
  EXPECT_FALSE(serial->matcher);
  EXPECT_EQ(serial->serial_port, "/dev/ttyS0") << "resolve_target finds the USB device behind it, if any";
  auto snmp = nut_matcher(*s, "snmp");
  EXPECT_TRUE(snmp->not_usb);
  EXPECT_FALSE(snmp->serial_port);
  EXPECT_EQ(snmp->why, "driver snmp-ups does not talk USB");
}

TEST(UpsConf, APortUnderDevMeansASerialCableUnlessTheDriverIsUsbOnlyOrNetwork) {
  auto s = parse_ups_conf(
      "[qx]\ndriver = nutdrv_qx\nport = /dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10K1XYZ-if00-port0\n"
      "[ser]\ndriver = blazer_ser\nport = /dev/ttyUSB0\n"
      "[hid]\ndriver = usbhid-ups\nport = /dev/usb/hiddev0\n"
      "[auto]\ndriver = nutdrv_qx\nport = auto\nvendorid = 0665\n"
      "[dummy]\ndriver = dummy-ups\nport = /dev/null\n"
      "[modbus]\ndriver = apc_modbus\nport = 10.0.0.9:502\n"
      "[nodriver]\nport = /dev/ttyUSB1\n");
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(nut_matcher(*s, "qx")->serial_port,
            "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10K1XYZ-if00-port0");
  EXPECT_EQ(nut_matcher(*s, "ser")->serial_port, "/dev/ttyUSB0");
  // USB-only drivers ignore `port`; nutdrv_qx with `port = auto` speaks USB: both keep the matcher.
  for (const char* name : {"hid", "auto"}) {
    auto m = nut_matcher(*s, name);
    EXPECT_TRUE(m->matcher) << name;
    EXPECT_FALSE(m->serial_port) << name;
    EXPECT_FALSE(m->not_usb) << name;
  }
  EXPECT_TRUE(nut_matcher(*s, "auto")->matcher->matches(testing::ups_alone_on_hub().device));
  EXPECT_EQ(nut_matcher(*s, "dummy")->why, "driver dummy-ups does not talk USB");
  EXPECT_EQ(nut_matcher(*s, "modbus")->why, "driver apc_modbus does not talk USB");
  EXPECT_EQ(nut_matcher(*s, "nodriver")->why, "section [nodriver] names no driver");
}

TEST(UpsConf, MissingSectionAndBrokenFilesAreClearErrors) {
  auto s = parse_ups_conf(kUpsConf);
  EXPECT_EQ(nut_matcher(*s, "nosuch").error().message(), "[nosuch]: no such section in ups.conf");
  EXPECT_EQ(parse_ups_conf("[a]\ndriver = \"x\n").error().message(), "line 2: unterminated quoted value");
  EXPECT_EQ(parse_ups_conf("[]\n").error().message(), "line 1: malformed section header");
  EXPECT_EQ(parse_ups_conf("[a]\ndriver = x y\n").error().message(), "line 2: expected 'key = value'");
  auto bad = parse_ups_conf("[a]\ndriver = usbhid-ups\nvendorid = \"(\"\n");
  EXPECT_EQ(nut_matcher(*bad, "a").error().message(), "[a]: '(' is not a valid pattern");
}

}  // namespace
}  // namespace usbrecover
