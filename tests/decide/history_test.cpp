// SPDX-License-Identifier: MIT
#include "decide/history.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "decide/state_store.hpp"

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

// The planner remembers which method cured a device from the attempts alone, so files written
// before it did (this one by 0.x) tell it the same.
TEST(History, AFileFromBeforeTheCureWasRememberedSaysWhichMethodCured) {
  auto h = parse_history(
      "usbrecover-history 1\n"
      "attempt 1700000000000 device failed not%20back\n"
      "attempt 1700000030000 port-power recovered verified\n");
  ASSERT_TRUE(h.ok()) << h.error().message();
  ASSERT_EQ(h->attempts.size(), 2u);
  EXPECT_EQ(h->attempts[1], (Attempt{1700000030000, Method::PortPower, true, "verified"}));
}

TEST(History, FormatsTimesInUtc) {
  EXPECT_EQ(format_utc(0), "1970-01-01 00:00:00 UTC");
  EXPECT_EQ(format_utc(1'800'000'000'000), "2027-01-15 08:00:00 UTC");
  EXPECT_EQ(format_utc(951'825'599'999), "2000-02-29 11:59:59 UTC");
  EXPECT_EQ(format_utc(4'107'542'400'000), "2100-03-01 00:00:00 UTC");
  EXPECT_EQ(format_utc(-1), "1969-12-31 23:59:59 UTC");
}

// A history load() refused would start afresh, budget and remembered cure with it: save() keeps
// the newest kHistoryKeep records and clips their free text, so what it writes always loads.
TEST(StateStore, SavesAFileItCanLoadWhateverTheRecordsHold) {
  char tmpl[] = "/tmp/usbrecover-history.XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  History h;
  const std::string huge(100'000, '\n');
  for (std::size_t i = 0; i < kHistoryKeep + 5; ++i) {
    h.attempts.push_back({static_cast<EpochMs>(i), Method::PortPower, false, huge});
    h.services.push_back({static_cast<EpochMs>(i), huge, true, huge, huge, huge});
    h.overcurrents.push_back({static_cast<EpochMs>(i), 1'000'000'000});
  }
  h.failure_streak = 1'000'000'000;
  h.last_failure = huge;
  StateStore store(dir);
  ASSERT_TRUE(store.save("port-1-1", h).ok());
  EXPECT_LE(std::filesystem::file_size(dir + "/history/port-1-1"), 4u * 1024 * 1024);
  auto back = store.load("port-1-1");
  ASSERT_TRUE(back.ok()) << back.error().message();
  ASSERT_EQ(back->attempts.size(), kHistoryKeep);
  EXPECT_EQ(back->attempts.front().at, 5) << "the newest are kept";
  EXPECT_EQ(back->attempts.front().detail, std::string(256, '\n'));
  EXPECT_EQ(back->services.back().result.size(), 64u);
  std::filesystem::remove_all(dir);
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
