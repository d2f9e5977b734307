// SPDX-License-Identifier: MIT
#pragma once

// Pure parsers for the descriptor bytes a USB device hands us: the hub class descriptor (read
// through usbfs) and the sysfs `descriptors` blob. The bytes come from the device and may be
// hostile, so every length is checked against the buffer and bLength is never trusted alone.
// No I/O here: the fuzzer (tests/snapshot/fuzz_descriptors.cpp) links only this file.

#include <cstdint>
#include <span>
#include <vector>

#include "error.hpp"
#include "snapshot/snapshot.hpp"

namespace usbrecover {

inline constexpr std::uint8_t kDtDevice = 0x01;
inline constexpr std::uint8_t kDtConfig = 0x02;
inline constexpr std::uint8_t kDtInterface = 0x04;
inline constexpr std::uint8_t kDtEndpoint = 0x05;
inline constexpr std::uint8_t kDtHub = 0x29;    ///< USB 2.0 hub class descriptor
inline constexpr std::uint8_t kDtSsHub = 0x2a;  ///< SuperSpeed hub class descriptor

/// What a hub class descriptor says about its ports and their power.
struct HubDescriptor {
  bool superspeed = false;                             ///< descriptor type 0x2A
  unsigned nports = 0;                                 ///< bNbrPorts
  std::uint16_t characteristics = 0;                   ///< wHubCharacteristics, raw
  PowerSwitching switching = PowerSwitching::Unknown;  ///< from characteristics bits 1:0
  bool compound = false;                               ///< characteristics bit 2: part of a compound device
  unsigned power_on_to_good_ms = 0;                    ///< bPwrOn2PwrGood * 2
  /// DeviceRemovable per port (index 0 is port 1); empty when the bitmap was not in the buffer.
  /// A set bit in the descriptor means "not removable", so `removable[i] == false` is a
  /// hard-wired device.
  std::vector<bool> removable;
};

/// Parses a hub class descriptor (USB 2.0 type 0x29 or SuperSpeed type 0x2A) as returned by
/// GET_DESCRIPTOR. Fails with a reason when the buffer is shorter than the fixed part, bLength
/// disagrees with it, the type is not a hub descriptor, or the port count is impossible.
Result<HubDescriptor> parse_hub_descriptor(std::span<const std::uint8_t> bytes);

/// The device descriptor (USB 2.0 §9.6.1), multi-byte fields in host order.
struct DeviceDescriptor {
  std::uint16_t bcd_usb = 0;
  std::uint8_t device_class = 0;
  std::uint8_t device_subclass = 0;
  std::uint8_t device_protocol = 0;
  std::uint8_t max_packet_size0 = 0;
  std::uint16_t vendor = 0;
  std::uint16_t product = 0;
  std::uint16_t bcd_device = 0;
  std::uint8_t i_manufacturer = 0;
  std::uint8_t i_product = 0;
  std::uint8_t i_serial = 0;
  std::uint8_t num_configurations = 0;
};

/// One interface (alternate setting) of a configuration, with its endpoints.
struct InterfaceDescriptor {
  std::uint8_t number = 0;     ///< bInterfaceNumber
  std::uint8_t alternate = 0;  ///< bAlternateSetting
  std::uint8_t cls = 0;
  std::uint8_t subclass = 0;
  std::uint8_t protocol = 0;
  std::vector<Endpoint> endpoints;  ///< in descriptor order
};

/// One configuration descriptor and the interfaces inside its wTotalLength.
struct ConfigDescriptor {
  std::uint8_t value = 0;       ///< bConfigurationValue
  std::uint8_t attributes = 0;  ///< bmAttributes (bit 6 self-powered, bit 5 remote wakeup)
  std::uint8_t max_power = 0;   ///< bMaxPower, raw (2 mA units, 8 mA at SuperSpeed)
  std::vector<InterfaceDescriptor> interfaces;
};

/// The sysfs `descriptors` attribute: the device descriptor followed by every configuration.
struct DescriptorSet {
  DeviceDescriptor device;
  std::vector<ConfigDescriptor> configs;
};

/// Parses the sysfs `descriptors` blob. Unknown descriptor types (class-specific, IADs, ...) are
/// skipped by their bLength; a bLength below 2 or past the end of its configuration fails.
Result<DescriptorSet> parse_descriptors(std::span<const std::uint8_t> bytes);

/// The interfaces of the configuration whose bConfigurationValue is `value`, or nullptr.
const ConfigDescriptor* find_config(const DescriptorSet& set, unsigned value);

}  // namespace usbrecover
