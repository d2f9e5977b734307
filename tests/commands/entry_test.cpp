// SPDX-License-Identifier: MIT
// The pure parts of the entry points: unit names for dispatch, policy from udev properties.
#include <gtest/gtest.h>

#include "commands/unit_name.hpp"
#include "decide/policy_properties.hpp"

namespace usbrecover {
namespace {

TEST(UnitName, EscapesLikeSystemdEscapePath) {
  // Expected values as `systemd-escape --path` prints them.
  EXPECT_EQ(escape_path("/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.2"),
            "devices-pci0000:00-0000:00:14.0-usb1-1\\x2d1-1\\x2d1.2");
  EXPECT_EQ(escape_path("//a//b/"), "a-b");
  EXPECT_EQ(escape_path("/"), "-");
  EXPECT_EQ(escape_path("/.hidden/x y"), "\\x2ehidden-x\\x20y");
  EXPECT_EQ(recover_unit_for("/devices/usb1/1-1"), "usbrecover@devices-usb1-1\\x2d1.service");
}

Properties table_properties() {
  return {{"USBRECOVER_SCHEMA", "1"},
          {"USBRECOVER_NAME", "UPS"},
          {"USBRECOVER_SOURCE", "devices.toml:17"},
          {"USBRECOVER_METHODS", "device,port-power"},
          {"USBRECOVER_MAX_RESETS", "3"},
          {"USBRECOVER_WINDOW_MS", "3600000"},
          {"USBRECOVER_COOLDOWN_MS", "30000"},
          {"USBRECOVER_PROBE", "megatec-q1"},
          {"USBRECOVER_ALLOW_COLLATERAL", "0"},
          {"ID_VENDOR_ID", "0665"}};
}

TEST(PolicyProperties, ReadsBackWhatTheRulesSet) {
  auto p = policy_from_properties(table_properties());
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(p->name, "UPS");
  EXPECT_EQ(p->source, "devices.toml:17");
  EXPECT_EQ(p->policy.methods, (std::vector<Method>{Method::Device, Method::PortPower}));
  EXPECT_EQ(p->policy.window, std::chrono::hours(1));
  EXPECT_EQ(p->policy.probe, Probe::MegatecQ1);
  EXPECT_FALSE(p->policy.allow_collateral);
  EXPECT_TRUE(has_table_properties(table_properties()));
  EXPECT_FALSE(has_table_properties({{"ID_VENDOR_ID", "0665"}}));
}

TEST(PolicyProperties, RefusesMissingOrMalformedProperties) {
  EXPECT_EQ(policy_from_properties({}).error().message(),
            "udev property USBRECOVER_SCHEMA: is missing; the device is not in the usbrecover table");
  auto p = table_properties();
  p["USBRECOVER_SCHEMA"] = "2";
  EXPECT_EQ(policy_from_properties(p).error().message(),
            "udev property USBRECOVER_SCHEMA: is '2'; this usbrecover reads 1 (regenerate the rules with "
            "usbrecover-gen)");
  p = table_properties();
  p["USBRECOVER_METHODS"] = "device,reboot";
  EXPECT_EQ(policy_from_properties(p).error().message(),
            "udev property USBRECOVER_METHODS: 'device,reboot' is not a list of methods");
  p = table_properties();
  p.erase("USBRECOVER_PROBE");
  EXPECT_EQ(policy_from_properties(p).error().message(), "udev property USBRECOVER_PROBE: is missing");
  p = table_properties();
  p["USBRECOVER_WINDOW_MS"] = "-5";
  EXPECT_EQ(policy_from_properties(p).error().message(),
            "udev property USBRECOVER_WINDOW_MS: '-5' is not a duration of 1..2592000000 ms");
}

// Regression: a value beyond what a table may hold is refused, never wrapped into a negative
// duration (2^64-1 ms would be -1 ms, a window that never holds an attempt).
TEST(PolicyProperties, OutOfRangeDurationsAreRefused) {
  Properties p = table_properties();
  p["USBRECOVER_WINDOW_MS"] = "18446744073709551615";
  EXPECT_EQ(policy_from_properties(p).error().message(),
            "udev property USBRECOVER_WINDOW_MS: '18446744073709551615' is not a duration of 1..2592000000 "
            "ms");
  p = table_properties();
  p["USBRECOVER_COOLDOWN_MS"] = "2592000001";
  EXPECT_EQ(policy_from_properties(p).error().message(),
            "udev property USBRECOVER_COOLDOWN_MS: '2592000001' is not a duration of 0..2592000000 ms");
  p["USBRECOVER_COOLDOWN_MS"] = "-1";
  EXPECT_FALSE(policy_from_properties(p).ok());
  p["USBRECOVER_COOLDOWN_MS"] = "2592000000";
  ASSERT_TRUE(policy_from_properties(p).ok());
  EXPECT_EQ(policy_from_properties(p)->policy.cooldown, kMaxDuration);
}

}  // namespace
}  // namespace usbrecover
