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
  auto c = parse_ups_conf(kUpsConf);
  EXPECT_TRUE(c.errors.empty());
  const auto& s = c.sections;
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].name, "myups");
  EXPECT_EQ(s[0].line, 5u);
  EXPECT_EQ(s[0].get("productid"), "5161");
  EXPECT_EQ(s[0].get("desc"), "Rack UPS \"A\"");
  EXPECT_EQ(s[1].get("driver"), "usbhid-ups");
  EXPECT_EQ(s[3].get("nolock"), "");
  EXPECT_EQ(s[3].settings.back(), (UpsSetting{"nolock", std::nullopt, 25}));
  EXPECT_EQ(s[0].get("maxretry"), std::nullopt) << "globals are not part of a section";
  ASSERT_EQ(c.globals.size(), 2u);
  EXPECT_EQ(c.globals[0], (UpsSetting{"maxretry", "3", 2}));
}

// Regression: a line NUT 2.8.0 accepts made the whole file fail, so every instance exited 65 and
// was never recovered. Each of these is read as NUT reads it (checked against NUT 2.8.0's own
// parser on these and on thousands of random files).
TEST(UpsConf, ReadsWhatNutAcceptsAsNutReadsIt) {
  auto c = parse_ups_conf(
      "[ups]\n"
      "  driver = nutdrv_qx\n"
      "  desc = Server room UPS\n"  // unquoted words: NUT keeps the first
      "  serial=\n"                 // nothing after '=': NUT sets nothing
      "  vendorid=0665\n"           // no spaces around '='
      "  productid =5161 # inline comment\n"
      "  port= auto\r\n"                     // CRLF
      "\tbus\t=\t\"001\"\n"                  // tabs
      "  sdorder = \"\"\n"                   // an empty quoted value is a value
      "  vendor = \"Cyber\\\"Power\\#1\"\n"  // escaped quote and '#' inside quotes
      "  product = two\\\n"                  // a backslash before the newline joins the lines
      "words\n"
      "  override.battery.charge.low = 20 30\n"
      "  notification = \"B\xc3\xbcro\"\n"  // bytes outside ASCII are dropped
      "  [weird\n"                          // not a header: a flag of [ups]
      "  pollonly");                        // a last line of one word without a newline is lost
  EXPECT_TRUE(c.errors.empty());
  ASSERT_EQ(c.sections.size(), 1u);
  const auto& s = c.sections[0];
  EXPECT_EQ(s.get("desc"), "Server");
  EXPECT_EQ(s.get("serial"), std::nullopt);
  EXPECT_EQ(s.get("vendorid"), "0665");
  EXPECT_EQ(s.get("productid"), "5161");
  EXPECT_EQ(s.get("port"), "auto");
  EXPECT_EQ(s.get("bus"), "001");
  EXPECT_EQ(s.get("sdorder"), "");
  EXPECT_EQ(s.get("vendor"), "Cyber\"Power#1");
  EXPECT_EQ(s.get("product"), "twowords");
  EXPECT_EQ(s.get("override.battery.charge.low"), "20");
  EXPECT_EQ(s.get("notification"), "Bro");
  EXPECT_EQ(s.get("[weird"), "");
  EXPECT_EQ(s.get("pollonly"), std::nullopt);
  auto m = nut_matcher(c, "ups");
  ASSERT_TRUE(m.ok()) << m.error().message();
  ASSERT_TRUE(m->matcher);
  EXPECT_EQ(m->matcher->vendorid, "0665");
}

TEST(UpsConf, SectionHeadersAsNutSeesThem) {
  auto c = parse_ups_conf(
      "[a] # comment\n driver = usbhid-ups\n[b] trailing words\n driver = y\n[]\n driver = z\n"
      "\"[quoted name]\"\n driver = q\n[a]\n port = auto\n");
  ASSERT_EQ(c.sections.size(), 5u);
  EXPECT_EQ(c.sections[0].name, "a");
  EXPECT_EQ(c.sections[1].name, "b");
  EXPECT_EQ(c.sections[2].name, "");
  EXPECT_EQ(c.sections[3].name, "quoted name");
  // A name given twice: NUT applies both sections, later values winning.
  auto a = nut_matcher(c, "a");
  ASSERT_TRUE(a.ok()) << a.error().message();
  ASSERT_TRUE(a->matcher);
  EXPECT_EQ(a->matcher->driver, "usbhid-ups");
}

TEST(UpsConf, AnUnterminatedQuoteRunsOnAsInNut) {
  // NUT drops the newline and keeps collecting: the next lines become part of the value.
  auto c = parse_ups_conf("[u]\n desc = \"open\n driver = usbhid-ups\n[v]\n driver = x\n");
  ASSERT_EQ(c.sections.size(), 1u);
  EXPECT_EQ(c.sections[0].get("desc"), "open driver = usbhid-ups[v] driver = x");
  EXPECT_EQ(c.sections[0].get("driver"), std::nullopt);
}

// A line NUT itself rejects (it logs it and skips it) fails only the section it is in, with the
// file and line.
TEST(UpsConf, ALineNutRejectsFailsOnlyItsOwnSection) {
  auto c = parse_ups_conf("[a]\n driver = usbhid-ups\n desc = \"a # b\"\n[b]\n driver = usbhid-ups\n");
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0].line, 3u);
  EXPECT_EQ(c.errors[0].section, "a");
  EXPECT_EQ(
      nut_matcher(c, "a", "/etc/nut/ups.conf").error().message(),
      "/etc/nut/ups.conf:3: unbalanced quotes: unescaped '#' inside a quoted value (NUT skips this line)");
  EXPECT_TRUE(nut_matcher(c, "b").ok());
  // Before the first section it is a global line, nobody's section.
  auto g = parse_ups_conf("desc = \"a # b\"\n[a]\n driver = usbhid-ups\n");
  ASSERT_EQ(g.errors.size(), 1u);
  EXPECT_EQ(g.errors[0].section, std::nullopt);
  EXPECT_TRUE(nut_matcher(g, "a").ok());
}

// Regression: the drop-in passed %I, which systemd unescapes ("my-ups" became "my/ups"), and
// the '-' hid the failure. It passes %i now, resolved as NUT's enumerator names its units: the
// section name itself, or MD5_ and the MD5 of the name and a newline.
TEST(UpsConf, EveryNutInstanceNameFindsItsSection) {
  auto c = parse_ups_conf(
      "[my-ups]\n driver = x\n[ups.1]\n driver = x\n[ups_a]\n driver = x\n"
      "[x:y]\n driver = x\n[ups@home]\n driver = x\n");
  for (const char* name : {"my-ups", "ups.1", "ups_a", "x:y", "ups@home"})
    EXPECT_EQ(nut_section_for_instance(c, name), name);
  // `echo ups@home | md5sum`, as nut-driver-enumerator.sh computes it.
  EXPECT_EQ(nut_section_for_instance(c, "MD5_cfd641b94eed11f1f8859a9303981b6d"), "ups@home");
  EXPECT_EQ(nut_section_for_instance(c, "MD5_CFD641B94EED11F1F8859A9303981B6D"), "ups@home");
  EXPECT_EQ(nut_section_for_instance(c, "MD5_b7b05ec430fdadc9bf00b95c952ba4f8"), "my-ups");
  EXPECT_EQ(nut_section_for_instance(c, "MD5_00000000000000000000000000000000"), std::nullopt);
  EXPECT_EQ(nut_section_for_instance(c, "MD5_cfd6"), std::nullopt);
  EXPECT_EQ(nut_section_for_instance(c, "my/ups"), std::nullopt);
}

TEST(UpsConf, MatchesTheDeviceASectionMeans) {
  auto s = parse_ups_conf(kUpsConf);
  auto ups = testing::ups_alone_on_hub().device;
  auto m = nut_matcher(s, "myups");
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->matcher);
  EXPECT_TRUE(m->matcher->matches(ups));
  ups.product = 0x5162;
  EXPECT_FALSE(m->matcher->matches(ups));

  auto other = nut_matcher(s, "other");
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
  auto m = nut_matcher(s, "u");
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
  auto serial = nut_matcher(s, "serialups");
  ASSERT_TRUE(serial.ok());
  EXPECT_FALSE(serial->not_usb);
  EXPECT_FALSE(serial->matcher);
  EXPECT_EQ(serial->serial_port, "/dev/ttyS0") << "resolve_target finds the USB device behind it, if any";
  auto snmp = nut_matcher(s, "snmp");
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
  EXPECT_TRUE(s.errors.empty());
  EXPECT_EQ(nut_matcher(s, "qx")->serial_port,
            "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10K1XYZ-if00-port0");
  EXPECT_EQ(nut_matcher(s, "ser")->serial_port, "/dev/ttyUSB0");
  // USB-only drivers ignore `port`; nutdrv_qx with `port = auto` speaks USB: both keep the matcher.
  for (const char* name : {"hid", "auto"}) {
    auto m = nut_matcher(s, name);
    EXPECT_TRUE(m->matcher) << name;
    EXPECT_FALSE(m->serial_port) << name;
    EXPECT_FALSE(m->not_usb) << name;
  }
  EXPECT_TRUE(nut_matcher(s, "auto")->matcher->matches(testing::ups_alone_on_hub().device));
  EXPECT_EQ(nut_matcher(s, "dummy")->why, "driver dummy-ups does not talk USB");
  EXPECT_EQ(nut_matcher(s, "modbus")->why, "driver apc_modbus does not talk USB");
  EXPECT_EQ(nut_matcher(s, "nodriver")->why, "section [nodriver] names no driver");
}

TEST(UpsConf, MissingSectionAndBadPatternsAreClearErrors) {
  auto s = parse_ups_conf(kUpsConf);
  EXPECT_EQ(nut_matcher(s, "nosuch", "/etc/nut/ups.conf").error().message(),
            "/etc/nut/ups.conf: no section [nosuch]");
  auto bad = parse_ups_conf("[a]\ndriver = usbhid-ups\nvendorid = \"(\"\n");
  EXPECT_EQ(nut_matcher(bad, "a").error().message(), "ups.conf:3: '(' is not a valid pattern for 'vendorid'");
}

// Regression (fuzz-ups_conf): a ten-character value took regcomp 18 s and 8 GB, on every
// nut-driver@ start and for every device compared.
TEST(UpsConf, PatternsTooCostlyToCompileAreClearErrorsAndMatchNothing) {
  auto s = parse_ups_conf("[a]\ndriver = usbhid-ups\nport = auto\nvendorid = \"x{1,32767}\"\n");
  EXPECT_EQ(nut_matcher(s, "a").error().message(),
            "ups.conf:4: 'x{1,32767}' is too costly a pattern for 'vendorid': a count is above 126 (no USB "
            "string is longer)");
  NutMatcher m;
  m.product = std::string("(.*)+");
  EXPECT_FALSE(m.matches(testing::ups_alone_on_hub().device)) << "never handed to regcomp";
  m.product = std::string(".*");
  EXPECT_TRUE(m.matches(testing::ups_alone_on_hub().device));
}

TEST(UpsConf, VendorAndProductStringsMatchAsNutMatchesThem) {
  auto s = parse_ups_conf(
      "[u]\ndriver = nutdrv_qx\nport = auto\nvendor = \"inno tech\"\nproduct = \".*Serial\"\n");
  auto m = nut_matcher(s, "u");
  ASSERT_TRUE(m.ok());
  auto ups = testing::ups_alone_on_hub().device;  // "INNO TECH" / "USB to Serial"
  EXPECT_TRUE(m->matcher->matches(ups));
  ups.manufacturer = "Cypress";
  EXPECT_FALSE(m->matcher->matches(ups));
}

}  // namespace
}  // namespace usbrecover
