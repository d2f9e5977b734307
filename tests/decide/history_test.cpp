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

TEST(History, DeviceKeysSeparateDevicesAndStayFileNames) {
  auto a = device_key("1-1.2", 0x0665, 0x5161, "A1");
  EXPECT_EQ(a, device_key("1-1.2", 0x0665, 0x5161, "A1"));
  EXPECT_NE(a, device_key("1-1.2", 0x0665, 0x5161, "A2"));
  EXPECT_NE(a, device_key("1-1.3", 0x0665, 0x5161, "A1"));
  EXPECT_EQ(a.find('/'), std::string::npos);
  EXPECT_TRUE(a.starts_with("1-1.2_06655161_"));
  // Only digits, '-' and '.' of the port path survive, and a suffix always follows.
  EXPECT_EQ(device_key("../x/y", 1, 2, ""), ".._____00010002_cbf29ce484222325");
}

}  // namespace
}  // namespace usbrecover
