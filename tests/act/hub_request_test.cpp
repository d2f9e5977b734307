// SPDX-License-Identifier: MIT
// The hub class requests to a port, byte by byte, and what a SuperSpeed port's status says
// during and after a warm reset: pure data in, out.

#include "act/hub_request.hpp"

#include <gtest/gtest.h>

namespace usbrecover {
namespace {

using State = WarmResetProgress::State;

// USB 3.0 spec 10.14.2.6.x and table 10-9: SetPortFeature(BH_PORT_RESET) is a class request to
// "other" (the port): bmRequestType 0x23, bRequest SET_FEATURE 3, wValue 28, wIndex the port.
TEST(HubRequest, WarmResetIsSetPortFeatureBhPortReset) {
  EXPECT_EQ(port_feature_request(true, kBhPortResetFeature, 4),
            (SetupPacket{.request_type = 0x23, .request = 3, .value = 28, .index = 4, .length = 0}));
}

TEST(HubRequest, PortPowerIsSetOrClearPortFeature8) {
  EXPECT_EQ(port_feature_request(true, kPortPowerFeature, 2),
            (SetupPacket{.request_type = 0x23, .request = 3, .value = 8, .index = 2, .length = 0}));
  EXPECT_EQ(port_feature_request(false, kPortPowerFeature, 2),
            (SetupPacket{.request_type = 0x23, .request = 1, .value = 8, .index = 2, .length = 0}));
}

TEST(HubRequest, PortStatusIsAFourByteGetStatusFromThePort) {
  EXPECT_EQ(port_status_request(7),
            (SetupPacket{.request_type = 0xa3, .request = 0, .value = 0, .index = 7, .length = 4}));
}

TEST(HubRequest, DecodesASuperSpeedPortStatus) {
  // What qemu's xHCI root port with a SuperSpeed stick says (VM bed): connected, enabled, powered, U0.
  SsPortStatus s = decode_ss_port_status(0x0203);
  EXPECT_TRUE(s.connected);
  EXPECT_TRUE(s.enabled);
  EXPECT_FALSE(s.resetting);
  EXPECT_TRUE(s.powered);
  EXPECT_EQ(s.link, LinkState::U0);
  EXPECT_EQ(decode_ss_port_status(0x02c1).link, LinkState::Inactive);
  EXPECT_TRUE(decode_ss_port_status(0x0211).resetting);
  EXPECT_EQ(link_state_name(LinkState::Inactive), "SS.Inactive");
  EXPECT_EQ(link_state_name(static_cast<LinkState>(15)), "state 15");
}

TEST(HubRequest, AWarmResetIsUnderWayWhileThePortResetsOrItsLinkTrains) {
  EXPECT_EQ(warm_reset_progress(0x0211).state, State::UnderWay);  // PORT_RESET: nothing else counts yet
  EXPECT_EQ(warm_reset_progress(0x0010).state, State::UnderWay);
  auto training = warm_reset_progress(0x02e1);  // connected, Polling, not yet enabled
  EXPECT_EQ(training.state, State::UnderWay);
  EXPECT_EQ(training.why, "the link is still training (port status 0x02e1, link Polling)");
}

TEST(HubRequest, AWarmResetIsDoneWithTheDeviceEnabledAndTheLinkUp) {
  EXPECT_EQ(warm_reset_progress(0x0203).state, State::Done);  // U0
  EXPECT_EQ(warm_reset_progress(0x0243).state, State::Done);  // U2, entered from U0 only
}

TEST(HubRequest, AWarmResetFailsWhenTheDeviceIsGoneOrTheLinkDidNotComeBack) {
  auto gone = warm_reset_progress(0x02a0);  // Rx.Detect, nothing connected
  EXPECT_EQ(gone.state, State::Failed);
  EXPECT_EQ(gone.why,
            "no device is connected to the port after the warm reset (port status 0x02a0, link Rx.Detect)");
  auto inactive = warm_reset_progress(0x02c1);
  EXPECT_EQ(inactive.state, State::Failed);
  EXPECT_EQ(inactive.why,
            "the link did not come back after the warm reset (port status 0x02c1, link SS.Inactive)");
  EXPECT_EQ(warm_reset_progress(0x0341).state, State::Failed);  // Compliance Mode
}

}  // namespace
}  // namespace usbrecover
