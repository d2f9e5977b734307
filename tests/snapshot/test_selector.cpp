// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <vector>

#include "snapshot/selector.hpp"
#include "snapshot/snapshot_reader.hpp"

namespace usbrecover {
namespace {

UsbDevice dev(std::string port_path, unsigned bus, unsigned devnum, std::uint16_t vid, std::uint16_t pid,
              std::string serial = "", std::string product = "") {
  UsbDevice d;
  d.sysname = port_path;
  d.port_path = port_path;
  d.syspath = "/sys/devices/pci0000:00/0000:00:14.0/usb" + std::to_string(bus) + "/" + port_path;
  d.busnum = bus;
  d.devnum = devnum;
  d.vendor = vid;
  d.product = pid;
  d.serial = std::move(serial);
  d.product_name = std::move(product);
  return d;
}

std::vector<UsbDevice> devices() {
  return {dev("1-1.1", 1, 5, 0x0665, 0x5161, "", "USB to Serial"),
          dev("1-1.2", 1, 6, 0x0403, 0x6001, "A10K1XYZ", "FT232R USB UART"),
          dev("1-2.3", 1, 9, 0x0403, 0x6001, "B20K2ABC", "FT232R USB UART"),
          dev("2-1.4", 2, 3, 0x0781, 0x5583, "4C530001", "Ultra Fit")};
}

TEST(SelectorParse, UsbId) {
  auto s = parse_selector("0665:5161");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, Selector::Kind::Id);
  EXPECT_EQ(s->vendor, 0x0665);
  EXPECT_EQ(s->product, 0x5161);
  EXPECT_FALSE(s->serial);
  auto upper = parse_selector("0403:60A1", std::string("A1"));
  ASSERT_TRUE(upper);
  EXPECT_EQ(upper->product, 0x60a1);
  EXPECT_EQ(*upper->serial, "A1");
}

TEST(SelectorParse, BusDevLikeUsbreset) {
  auto s = parse_selector("001/004");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, Selector::Kind::BusDev);
  EXPECT_EQ(s->bus, 1u);
  EXPECT_EQ(s->dev, 4u);
  EXPECT_EQ(parse_selector("1/4")->dev, 4u);
  EXPECT_EQ(parse_selector("001/128").error().message(),
            "selector '001/128': bus must be 1-999 and device 1-127 in BBB/DDD");
  EXPECT_FALSE(parse_selector("000/001"));
}

TEST(SelectorParse, PortPaths) {
  EXPECT_EQ(parse_selector("1-1.2")->kind, Selector::Kind::PortPath);
  EXPECT_EQ(parse_selector("1-1.2")->port_path, "1-1.2");
  EXPECT_EQ(parse_selector("3-10.4.1")->port_path, "3-10.4.1");
  EXPECT_EQ(parse_selector("usb2")->port_path, "2-0");
  EXPECT_EQ(parse_selector("2-0")->port_path, "2-0");
  // Not port paths: a port 0 below a hub, empty components, junk. They fall through to a
  // product string, which then simply matches nothing.
  EXPECT_EQ(parse_selector("1-1.0")->kind, Selector::Kind::Product);
  EXPECT_EQ(parse_selector("1-1..2")->kind, Selector::Kind::Product);
  EXPECT_EQ(parse_selector("1-")->kind, Selector::Kind::Product);
}

TEST(SelectorParse, SysfsPaths) {
  auto s = parse_selector("/sys/bus/usb/devices/1-1.2/");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, Selector::Kind::SysPath);
  EXPECT_EQ(s->syspath, "/sys/bus/usb/devices/1-1.2");
  EXPECT_EQ(parse_selector("/devices/pci0000:00/x/usb1/1-1")->syspath, "/sys/devices/pci0000:00/x/usb1/1-1");
  EXPECT_EQ(parse_selector("/sys/devices/../../etc").error().message(),
            "selector '/sys/devices/../../etc': a sysfs path must not contain '..'");
}

TEST(SelectorParse, ProductStringAndErrors) {
  auto s = parse_selector("USB to Serial");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, Selector::Kind::Product);
  EXPECT_EQ(s->product_name, "USB to Serial");
  EXPECT_EQ(parse_selector("").error().message(), "selector '': empty selector");
  EXPECT_EQ(parse_selector("0665:5161", std::string()).error().message(),
            "selector '0665:5161': empty --serial");
  // A hostile selector is shown escaped in errors.
  EXPECT_EQ(parse_selector("x", std::string()).error().object, "selector 'x'");
  EXPECT_EQ(parse_selector("\x1b[2J", std::string()).error().object, "selector '\\x1b[2J'");
}

TEST(SelectorResolve, UniqueMatches) {
  const auto all = devices();
  EXPECT_EQ(resolve_selector(*parse_selector("0665:5161"), all).device().port_path, "1-1.1");
  EXPECT_EQ(resolve_selector(*parse_selector("001/009"), all).device().port_path, "1-2.3");
  EXPECT_EQ(resolve_selector(*parse_selector("2-1.4"), all).device().serial, "4C530001");
  EXPECT_EQ(resolve_selector(*parse_selector("/sys/bus/usb/devices/1-1.2"), all).device().devnum, 6u);
  EXPECT_EQ(resolve_selector(*parse_selector("/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1.1"), all)
                .device()
                .vendor,
            0x0665);
  EXPECT_EQ(resolve_selector(*parse_selector("Ultra Fit"), all).device().port_path, "2-1.4");
}

TEST(SelectorResolve, TwinsAreAmbiguousAndListed) {
  const auto r = resolve_selector(*parse_selector("0403:6001"), devices());
  EXPECT_TRUE(r.ambiguous());
  EXPECT_FALSE(r.found());
  ASSERT_EQ(r.matches.size(), 2u);
  EXPECT_EQ(r.error.message(),
            "'0403:6001': 2 devices match; name one by port path or --serial:\n"
            "  1-1.2 0403:6001 serial 'A10K1XYZ' (FT232R USB UART)\n"
            "  1-2.3 0403:6001 serial 'B20K2ABC' (FT232R USB UART)");
  // The same product string is just as ambiguous.
  EXPECT_TRUE(resolve_selector(*parse_selector("FT232R USB UART"), devices()).ambiguous());
}

TEST(SelectorResolve, SerialNarrowsTwins) {
  const auto r = resolve_selector(*parse_selector("0403:6001", std::string("B20K2ABC")), devices());
  ASSERT_TRUE(r.found());
  EXPECT_EQ(r.device().port_path, "1-2.3");
}

TEST(SelectorResolve, NothingMatches) {
  const auto r = resolve_selector(*parse_selector("0403:6001", std::string("nope")), devices());
  EXPECT_TRUE(r.not_found());
  EXPECT_EQ(r.error.message(), "'0403:6001' serial 'nope': no such USB device");
  EXPECT_TRUE(resolve_selector(*parse_selector("9-9"), devices()).not_found());
}

TEST(SortDevices, ByBusThenNumericPortPath) {
  std::vector<UsbDevice> d = {dev("1-10", 1, 3, 0, 0), dev("2-0", 2, 1, 0, 0), dev("1-2.1", 1, 4, 0, 0),
                              dev("1-2", 1, 2, 0, 0), dev("1-0", 1, 1, 0, 0)};
  sort_devices(d);
  std::vector<std::string> order;
  for (const auto& x : d) order.push_back(x.port_path);
  EXPECT_EQ(order, (std::vector<std::string>{"1-0", "1-2", "1-2.1", "1-10", "2-0"}));
}

}  // namespace
}  // namespace usbrecover
