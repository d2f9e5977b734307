// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "snapshot/descriptors.hpp"

namespace usbrecover {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes device_descriptor() {
  return {18, 1, 0x00, 0x02, 0, 0, 0, 8, 0x65, 0x06, 0x61, 0x51, 0x02, 0x00, 1, 2, 3, 1};
}

// A configuration with the given body; wTotalLength computed unless `total` is given.
Bytes config(const Bytes& body, int total = -1, std::uint8_t value = 1) {
  const unsigned len = total >= 0 ? static_cast<unsigned>(total) : 9 + static_cast<unsigned>(body.size());
  Bytes b = {9,    2, static_cast<std::uint8_t>(len & 0xff), static_cast<std::uint8_t>(len >> 8), 1, value, 0,
             0x80, 50};
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

Bytes join(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const Bytes kHidInterface = {9, 4, 0, 0, 1, 3, 0, 0, 0};
const Bytes kHidClass = {9, 0x21, 0x11, 0x01, 0, 1, 0x22, 0x1b, 0};
const Bytes kInterruptIn = {7, 5, 0x81, 3, 8, 0, 10};

TEST(HubDescriptor, Usb2PerPort) {
  auto d = parse_hub_descriptor(Bytes{9, 0x29, 4, 0x01, 0x00, 50, 100, 0x00, 0xff});
  ASSERT_TRUE(d) << d.error().reason;
  EXPECT_FALSE(d->superspeed);
  EXPECT_EQ(d->nports, 4u);
  EXPECT_EQ(d->switching, PowerSwitching::PerPort);
  EXPECT_EQ(d->power_on_to_good_ms, 100u);
  EXPECT_FALSE(d->compound);
  EXPECT_EQ(d->removable, (std::vector<bool>{true, true, true, true}));
}

TEST(HubDescriptor, SwitchingModesFromBits1And0) {
  auto with = [](std::uint8_t lo) { return parse_hub_descriptor(Bytes{9, 0x29, 2, lo, 0, 1, 0, 0, 0xff}); };
  EXPECT_EQ(with(0x00)->switching, PowerSwitching::Ganged);
  EXPECT_EQ(with(0x01)->switching, PowerSwitching::PerPort);
  EXPECT_EQ(with(0x02)->switching, PowerSwitching::None);
  EXPECT_EQ(with(0x03)->switching, PowerSwitching::None);
  // Other bits (compound, over-current mode, TT think time) do not change the mode.
  EXPECT_EQ(with(0xfc)->switching, PowerSwitching::Ganged);
  EXPECT_TRUE(with(0x04)->compound);
}

TEST(HubDescriptor, DeviceRemovableMarksHardwiredPorts) {
  // Bit N is port N: ports 2 and 7 are not removable.
  auto d = parse_hub_descriptor(Bytes{9, 0x29, 7, 0x00, 0x00, 50, 100, 0x84, 0xff});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->removable, (std::vector<bool>{true, false, true, true, true, true, false}));
}

TEST(HubDescriptor, SuperSpeed) {
  auto d = parse_hub_descriptor(Bytes{12, 0x2a, 4, 0x09, 0x00, 50, 0, 0, 0, 0, 0x10, 0});
  ASSERT_TRUE(d) << d.error().reason;
  EXPECT_TRUE(d->superspeed);
  EXPECT_EQ(d->nports, 4u);
  EXPECT_EQ(d->switching, PowerSwitching::PerPort);
  EXPECT_EQ(d->power_on_to_good_ms, 100u);
  EXPECT_EQ(d->removable, (std::vector<bool>{true, true, true, false}));
}

TEST(HubDescriptor, WithoutRemovableBitmapStillParses) {
  auto d = parse_hub_descriptor(Bytes{7, 0x29, 4, 0x01, 0x00, 50, 100});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->nports, 4u);
  EXPECT_TRUE(d->removable.empty());
}

TEST(HubDescriptor, RejectsHostileInput) {
  EXPECT_EQ(parse_hub_descriptor(Bytes{}).error().reason, "hub descriptor: 0 bytes, need at least 2");
  EXPECT_EQ(parse_hub_descriptor(Bytes{9, 0x01, 4, 1, 0, 50, 100}).error().reason,
            "hub descriptor: type 0x01, expected 0x29 or 0x2a");
  EXPECT_EQ(parse_hub_descriptor(Bytes{0, 0x29, 4, 1, 0, 50, 100}).error().reason,
            "hub descriptor: bLength 0 is shorter than the 7 fixed bytes");
  EXPECT_EQ(parse_hub_descriptor(Bytes{9, 0x29, 4, 1}).error().reason,
            "hub descriptor: truncated at 4 of 7 bytes");
  EXPECT_EQ(parse_hub_descriptor(Bytes{9, 0x2a, 4, 1, 0, 50, 0, 0, 0}).error().reason,
            "hub descriptor: bLength 9 is shorter than the 12 fixed bytes");
  EXPECT_EQ(parse_hub_descriptor(Bytes{12, 0x2a, 16, 1, 0, 50, 0, 0, 0, 0, 0, 0}).error().reason,
            "hub descriptor: 16 ports, a SuperSpeed hub has at most 15");
}

TEST(HubDescriptor, BLengthBeyondBufferDoesNotReadPastIt) {
  // bLength claims 255 bytes and 255 ports; only the fixed part is there.
  auto d = parse_hub_descriptor(Bytes{255, 0x29, 255, 0x01, 0x00, 50, 100});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->nports, 255u);
  EXPECT_TRUE(d->removable.empty());
}

TEST(Descriptors, UpsWithHidClassDescriptor) {
  auto set = parse_descriptors(
      join(device_descriptor(), config(join(join(kHidInterface, kHidClass), kInterruptIn))));
  ASSERT_TRUE(set) << set.error().reason;
  EXPECT_EQ(set->device.vendor, 0x0665);
  EXPECT_EQ(set->device.product, 0x5161);
  EXPECT_EQ(set->device.bcd_usb, 0x0200);
  EXPECT_EQ(set->device.i_serial, 3);
  ASSERT_EQ(set->configs.size(), 1u);
  EXPECT_EQ(set->configs[0].value, 1);
  EXPECT_EQ(set->configs[0].max_power, 50);
  ASSERT_EQ(set->configs[0].interfaces.size(), 1u);
  const auto& intf = set->configs[0].interfaces[0];
  EXPECT_EQ(intf.cls, 3);
  ASSERT_EQ(intf.endpoints.size(), 1u);
  EXPECT_EQ(intf.endpoints[0].address, 0x81);
  EXPECT_EQ(intf.endpoints[0].attributes, 3);
  EXPECT_EQ(intf.endpoints[0].max_packet_size, 8);
  EXPECT_EQ(intf.endpoints[0].interval, 10);
  EXPECT_NE(find_config(*set, 1), nullptr);
  EXPECT_EQ(find_config(*set, 2), nullptr);
}

TEST(Descriptors, TwoConfigurationsAndAlternateSettings) {
  const Bytes alt1 = {9, 4, 0, 1, 1, 3, 0, 0, 0};
  auto set = parse_descriptors(join(join(device_descriptor(), config(join(kHidInterface, alt1), -1, 1)),
                                    config(kHidInterface, -1, 2)));
  ASSERT_TRUE(set) << set.error().reason;
  ASSERT_EQ(set->configs.size(), 2u);
  EXPECT_EQ(set->configs[0].interfaces.size(), 2u);
  EXPECT_EQ(set->configs[0].interfaces[1].alternate, 1);
  EXPECT_EQ(find_config(*set, 2)->interfaces.size(), 1u);
}

TEST(Descriptors, DeviceDescriptorOnly) {
  auto set = parse_descriptors(device_descriptor());
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->configs.empty());
}

TEST(Descriptors, RejectsBadDeviceDescriptor) {
  EXPECT_EQ(parse_descriptors(Bytes{18, 1, 0}).error().reason,
            "device descriptor: truncated at 3 of 18 bytes");
  Bytes d = device_descriptor();
  d[0] = 0;
  EXPECT_EQ(parse_descriptors(d).error().reason, "device descriptor: bLength 0, expected 18");
  d = device_descriptor();
  d[1] = 2;
  EXPECT_EQ(parse_descriptors(d).error().reason, "device descriptor: type 0x02, expected 0x01");
}

TEST(Descriptors, ZeroBLengthInsideConfigurationFailsInsteadOfLooping) {
  const Bytes body = {0, 4, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(parse_descriptors(join(device_descriptor(), config(body))).error().reason,
            "configuration 1: descriptor at offset 27 has bLength 0");
  const Bytes one = {1, 4};
  EXPECT_EQ(parse_descriptors(join(device_descriptor(), config(one))).error().reason,
            "configuration 1: descriptor at offset 27 has bLength 1");
}

TEST(Descriptors, DescriptorRunningPastItsConfigurationFails) {
  // An interface descriptor claiming 200 bytes inside an 18-byte configuration.
  const Bytes body = {200, 4, 0, 0, 1, 3, 0, 0, 0};
  EXPECT_EQ(parse_descriptors(join(device_descriptor(), config(body))).error().reason,
            "configuration 1: descriptor at offset 27 (bLength 200) runs past 36");
}

TEST(Descriptors, TotalLengthBeyondBufferFails) {
  EXPECT_EQ(parse_descriptors(join(device_descriptor(), config(kHidInterface, 0xffff))).error().reason,
            "configuration 1: wTotalLength 65535 exceeds the 18 bytes left");
  EXPECT_EQ(parse_descriptors(join(device_descriptor(), config({}, 4))).error().reason,
            "configuration 1: wTotalLength 4 is shorter than its header");
}

TEST(Descriptors, TruncatedConfigurationHeaderFails) {
  EXPECT_EQ(parse_descriptors(join(device_descriptor(), Bytes{9, 2, 9, 0})).error().reason,
            "configuration 1: truncated at offset 18, 4 of 9 bytes");
}

TEST(Descriptors, ShortInterfaceOrEndpointFails) {
  EXPECT_EQ(parse_descriptors(join(device_descriptor(), config(Bytes{5, 4, 0, 0, 0}))).error().reason,
            "configuration 1: interface descriptor with bLength 5, need 9");
  EXPECT_EQ(parse_descriptors(join(device_descriptor(), config(join(kHidInterface, Bytes{4, 5, 0x81, 3}))))
                .error()
                .reason,
            "configuration 1: endpoint descriptor with bLength 4, need 7");
  EXPECT_EQ(parse_descriptors(join(device_descriptor(), config(kInterruptIn))).error().reason,
            "configuration 1: endpoint descriptor before any interface");
}

TEST(Descriptors, WrongTypeWhereConfigurationExpectedFails) {
  EXPECT_EQ(parse_descriptors(join(device_descriptor(), kHidInterface)).error().reason,
            "configuration 1: type 0x04, expected 0x02");
}

TEST(Descriptors, EveryPrefixOfAValidBlobEndsWithAValueOrAnError) {
  const Bytes blob = join(device_descriptor(), config(join(join(kHidInterface, kHidClass), kInterruptIn)));
  unsigned ok = 0;
  for (std::size_t n = 0; n <= blob.size(); ++n) {
    auto r = parse_descriptors(std::span<const std::uint8_t>(blob.data(), n));
    if (r) {
      ++ok;
    } else {
      EXPECT_FALSE(r.error().reason.empty());
    }
  }
  // Only the bare device descriptor and the whole blob are complete.
  EXPECT_EQ(ok, 2u);
}

}  // namespace
}  // namespace usbrecover
