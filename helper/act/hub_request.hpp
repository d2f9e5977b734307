// SPDX-License-Identifier: MIT
#pragma once

// Hub class requests to one port, as plain data: the setup packets that switch a port's power,
// start a warm reset and read a port's status, and what a SuperSpeed port's status word says.
// effects_linux.cpp sends them through usbfs; keeping them here lets the tests check every
// byte without a hub, and the decoding of a status word without one either.

#include <cstdint>
#include <string>
#include <string_view>

namespace usbrecover {

/// A control request's setup packet (USB 2.0 spec 9.3).
struct SetupPacket {
  std::uint8_t request_type = 0;  ///< bmRequestType
  std::uint8_t request = 0;       ///< bRequest
  std::uint16_t value = 0;        ///< wValue
  std::uint16_t index = 0;        ///< wIndex
  std::uint16_t length = 0;       ///< wLength

  friend bool operator==(const SetupPacket&, const SetupPacket&) = default;
};

/// Port feature selectors: PORT_POWER (USB 2.0 spec table 11-17) and BH_PORT_RESET, the warm
/// reset (USB 3.0 spec table 10-9; 10.14.2.6.x: only a SuperSpeed hub's port knows it).
inline constexpr std::uint16_t kPortPowerFeature = 8;
inline constexpr std::uint16_t kBhPortResetFeature = 28;

/// SetPortFeature(`feature`) (`set`) or ClearPortFeature(`feature`) for 1-based `port`: a
/// host-to-device class request to "other" (0x23), SET_FEATURE 3 or CLEAR_FEATURE 1, no data.
SetupPacket port_feature_request(bool set, std::uint16_t feature, std::uint8_t port);

/// GetPortStatus for `port`: device-to-host, class, other (0xa3), GET_STATUS 0, four bytes back
/// (wPortStatus, wPortChange).
SetupPacket port_status_request(std::uint8_t port);

/// A SuperSpeed port's link state, wPortStatus bits 8:5 (USB 3.0 spec table 10-10).
enum class LinkState : std::uint8_t {
  U0 = 0,
  U1 = 1,
  U2 = 2,
  U3 = 3,
  Disabled = 4,
  RxDetect = 5,
  Inactive = 6,
  Polling = 7,
  Recovery = 8,
  HotReset = 9,
  Compliance = 10,
  Loopback = 11,
};
/// "U0", "SS.Inactive", "Polling", ... as the USB 3.0 spec names them; "state N" otherwise.
std::string link_state_name(LinkState s);

/// What a SuperSpeed port's wPortStatus says.
struct SsPortStatus {
  bool connected = false;  ///< PORT_CONNECTION, bit 0
  bool enabled = false;    ///< PORT_ENABLE, bit 1
  bool resetting = false;  ///< PORT_RESET, bit 4: a hot or warm reset is under way
  LinkState link = LinkState::U0;
  bool powered = false;  ///< PORT_POWER, bit 9 on a SuperSpeed hub
};
SsPortStatus decode_ss_port_status(std::uint16_t status);

/// Where a port is after a warm reset was asked for, judged from its wPortStatus the way the
/// kernel judges its own resets (hub_port_wait_reset): still under way (the reset, or the link
/// training that follows it), done (the device connected and enabled, the link up: U0, or
/// U1/U2, which a link enters from U0 only), or failed (no device any more, or a link in
/// SS.Inactive or Compliance, from which only another warm reset brings it back).
struct WarmResetProgress {
  enum class State { UnderWay, Done, Failed };
  State state = State::UnderWay;
  std::string why;  ///< for UnderWay and Failed: what the port says, in words
};
WarmResetProgress warm_reset_progress(std::uint16_t status);

}  // namespace usbrecover
