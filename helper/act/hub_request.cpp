// SPDX-License-Identifier: MIT
#include "act/hub_request.hpp"

#include <array>
#include <cstdio>

namespace usbrecover {

namespace {

// USB 2.0 spec 9.3.1 and 11.24.2: requests to a hub port have the "other" recipient.
constexpr std::uint8_t kToPort = 0x23;    // host-to-device, class, other
constexpr std::uint8_t kFromPort = 0xa3;  // device-to-host, class, other
constexpr std::uint8_t kGetStatus = 0;
constexpr std::uint8_t kClearFeature = 1;
constexpr std::uint8_t kSetFeature = 3;

std::string hex_status(std::uint16_t status) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", static_cast<unsigned>(status));
  return buf;
}

}  // namespace

SetupPacket port_feature_request(bool set, std::uint16_t feature, std::uint8_t port) {
  return SetupPacket{.request_type = kToPort,
                     .request = set ? kSetFeature : kClearFeature,
                     .value = feature,
                     .index = port,
                     .length = 0};
}

SetupPacket port_status_request(std::uint8_t port) {
  return SetupPacket{
      .request_type = kFromPort, .request = kGetStatus, .value = 0, .index = port, .length = 4};
}

std::string link_state_name(LinkState s) {
  static constexpr std::array<std::string_view, 12> kNames = {
      "U0",          "U1",      "U2",       "U3",        "SS.Disabled",     "Rx.Detect",
      "SS.Inactive", "Polling", "Recovery", "Hot Reset", "Compliance Mode", "Loopback"};
  const auto i = static_cast<std::size_t>(s);
  if (i < kNames.size()) return std::string(kNames[i]);
  return "state " + std::to_string(i);
}

SsPortStatus decode_ss_port_status(std::uint16_t status) {
  return SsPortStatus{.connected = (status & 0x0001) != 0,
                      .enabled = (status & 0x0002) != 0,
                      .resetting = (status & 0x0010) != 0,
                      .link = static_cast<LinkState>((status >> 5) & 0x0f),
                      .powered = (status & 0x0200) != 0};
}

WarmResetProgress warm_reset_progress(std::uint16_t status) {
  using State = WarmResetProgress::State;
  const SsPortStatus s = decode_ss_port_status(status);
  const std::string said = " (port status " + hex_status(status) + ", link " + link_state_name(s.link) + ")";
  // The rest of the status means nothing while the reset runs (hub_port_wait_reset waits too).
  if (s.resetting) return {State::UnderWay, "the port is still resetting" + said};
  if (!s.connected) return {State::Failed, "no device is connected to the port after the warm reset" + said};
  if (s.link == LinkState::Inactive || s.link == LinkState::Compliance)
    return {State::Failed, "the link did not come back after the warm reset" + said};
  const bool link_up = s.link == LinkState::U0 || s.link == LinkState::U1 || s.link == LinkState::U2;
  if (!s.enabled || !link_up) return {State::UnderWay, "the link is still training" + said};
  return {State::Done, {}};
}

}  // namespace usbrecover
