// SPDX-License-Identifier: MIT
#include "snapshot/descriptors.hpp"

#include <algorithm>
#include <string>

namespace usbrecover {

namespace {

// Layout offsets (USB 2.0 §9.6, §11.23.2.1; USB 3.2 §10.15.2.1).
constexpr std::size_t kHubFixed = 7;     // bLength .. bHubContrCurrent
constexpr std::size_t kSsHubFixed = 12;  // .. wHubDelay, DeviceRemovable (2 bytes)
constexpr unsigned kMaxSsPorts = 15;     // a SuperSpeed hub has at most 15 ports
constexpr std::size_t kDeviceSize = 18;
constexpr std::size_t kConfigSize = 9;
constexpr std::size_t kInterfaceSize = 9;
constexpr std::size_t kEndpointSize = 7;

std::uint16_t le16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] | (b[at + 1] << 8));
}

Error bad(std::string reason) {
  return Error{"", "", std::move(reason), 0};
}

std::string num(std::size_t v) {
  return std::to_string(v);
}

std::string hex2(std::uint8_t v) {
  constexpr char kDigits[] = "0123456789abcdef";
  return {kDigits[v >> 4], kDigits[v & 0xf]};
}

PowerSwitching switching_of(std::uint16_t characteristics) {
  switch (characteristics & 0x3) {
    case 0:
      return PowerSwitching::Ganged;
    case 1:
      return PowerSwitching::PerPort;
    default:  // 1x: "no power switching" (USB 1.x hubs; reserved in 2.0 but seen in the field)
      return PowerSwitching::None;
  }
}

}  // namespace

Result<HubDescriptor> parse_hub_descriptor(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 2) return bad("hub descriptor: " + num(bytes.size()) + " bytes, need at least 2");
  const std::uint8_t length = bytes[0];
  const std::uint8_t type = bytes[1];
  if (type != kDtHub && type != kDtSsHub) {
    return bad("hub descriptor: type 0x" + hex2(type) + ", expected 0x29 or 0x2a");
  }
  HubDescriptor d;
  d.superspeed = type == kDtSsHub;
  const std::size_t fixed = d.superspeed ? kSsHubFixed : kHubFixed;
  if (length < fixed) {
    return bad("hub descriptor: bLength " + num(length) + " is shorter than the " + num(fixed) +
               " fixed bytes");
  }
  if (bytes.size() < fixed) {
    return bad("hub descriptor: truncated at " + num(bytes.size()) + " of " + num(fixed) + " bytes");
  }
  d.nports = bytes[2];
  if (d.superspeed && d.nports > kMaxSsPorts) {
    return bad("hub descriptor: " + num(d.nports) + " ports, a SuperSpeed hub has at most 15");
  }
  d.characteristics = le16(bytes, 3);
  d.switching = switching_of(d.characteristics);
  d.compound = (d.characteristics & 0x4) != 0;
  d.power_on_to_good_ms = bytes[5] * 2u;

  // DeviceRemovable: bit N is port N (bit 0 reserved). Only within both bLength and the buffer.
  const std::size_t avail = std::min<std::size_t>(length, bytes.size());
  const std::size_t map_at = d.superspeed ? 10 : 7;
  const std::size_t map_len = d.superspeed ? 2 : (d.nports + 1 + 7) / 8;
  if (d.nports > 0 && map_at + map_len <= avail) {
    d.removable.reserve(d.nports);
    for (unsigned port = 1; port <= d.nports; ++port) {
      const bool fixed_device = (bytes[map_at + port / 8] >> (port % 8)) & 1;
      d.removable.push_back(!fixed_device);
    }
  }
  return d;
}

namespace {

struct Cursor {
  std::span<const std::uint8_t> b;
  std::size_t at = 0;
};

// Reads the next descriptor header inside `limit`: its bLength must be >= 2 and fit.
Result<std::span<const std::uint8_t>> next_descriptor(Cursor& c, std::size_t limit,
                                                      const std::string& where) {
  if (c.at + 2 > limit) return bad(where + ": truncated descriptor header at offset " + num(c.at));
  const std::size_t length = c.b[c.at];
  if (length < 2) return bad(where + ": descriptor at offset " + num(c.at) + " has bLength " + num(length));
  if (c.at + length > limit) {
    return bad(where + ": descriptor at offset " + num(c.at) + " (bLength " + num(length) + ") runs past " +
               num(limit));
  }
  auto d = c.b.subspan(c.at, length);
  c.at += length;  // strictly increases: no loop can spin
  return d;
}

Result<ConfigDescriptor> parse_config(Cursor& c, std::size_t index) {
  const std::string where = "configuration " + num(index + 1);
  const std::size_t start = c.at;
  if (start + kConfigSize > c.b.size()) {
    return bad(where + ": truncated at offset " + num(start) + ", " + num(c.b.size() - start) +
               " of 9 bytes");
  }
  const auto hdr = c.b.subspan(start, kConfigSize);
  if (hdr[1] != kDtConfig) return bad(where + ": type 0x" + hex2(hdr[1]) + ", expected 0x02");
  if (hdr[0] < kConfigSize) return bad(where + ": bLength " + num(hdr[0]) + " is shorter than 9");
  const std::size_t total = le16(hdr, 2);
  if (total < hdr[0]) return bad(where + ": wTotalLength " + num(total) + " is shorter than its header");
  if (start + total > c.b.size()) {
    return bad(where + ": wTotalLength " + num(total) + " exceeds the " + num(c.b.size() - start) +
               " bytes left");
  }
  const std::size_t end = start + total;
  ConfigDescriptor cfg;
  cfg.value = hdr[5];
  cfg.attributes = hdr[7];
  cfg.max_power = hdr[8];
  c.at = start + hdr[0];

  InterfaceDescriptor* current = nullptr;
  while (c.at < end) {
    auto d = next_descriptor(c, end, where);
    if (!d) return d.error();
    const auto desc = *d;
    if (desc[1] == kDtInterface) {
      if (desc.size() < kInterfaceSize) {
        return bad(where + ": interface descriptor with bLength " + num(desc.size()) + ", need 9");
      }
      InterfaceDescriptor intf;
      intf.number = desc[2];
      intf.alternate = desc[3];
      intf.cls = desc[5];
      intf.subclass = desc[6];
      intf.protocol = desc[7];
      cfg.interfaces.push_back(std::move(intf));
      current = &cfg.interfaces.back();
    } else if (desc[1] == kDtEndpoint) {
      if (desc.size() < kEndpointSize) {
        return bad(where + ": endpoint descriptor with bLength " + num(desc.size()) + ", need 7");
      }
      if (current == nullptr) return bad(where + ": endpoint descriptor before any interface");
      current->endpoints.push_back(Endpoint{desc[2], desc[3], le16(desc, 4), desc[6]});
    }
    // Anything else (HID, CDC functional, IAD, SS companion, vendor) belongs to someone else.
  }
  return cfg;
}

}  // namespace

Result<DescriptorSet> parse_descriptors(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kDeviceSize) {
    return bad("device descriptor: truncated at " + num(bytes.size()) + " of 18 bytes");
  }
  if (bytes[1] != kDtDevice) {
    return bad("device descriptor: type 0x" + hex2(bytes[1]) + ", expected 0x01");
  }
  if (bytes[0] != kDeviceSize) return bad("device descriptor: bLength " + num(bytes[0]) + ", expected 18");
  DescriptorSet set;
  auto& dev = set.device;
  dev.bcd_usb = le16(bytes, 2);
  dev.device_class = bytes[4];
  dev.device_subclass = bytes[5];
  dev.device_protocol = bytes[6];
  dev.max_packet_size0 = bytes[7];
  dev.vendor = le16(bytes, 8);
  dev.product = le16(bytes, 10);
  dev.bcd_device = le16(bytes, 12);
  dev.i_manufacturer = bytes[14];
  dev.i_product = bytes[15];
  dev.i_serial = bytes[16];
  dev.num_configurations = bytes[17];

  // The kernel appends each configuration it read, wTotalLength bytes each; there may be fewer
  // than bNumConfigurations (a configuration that failed to read is left out).
  Cursor c{bytes, kDeviceSize};
  while (c.at < bytes.size()) {
    if (set.configs.size() >= 255) return bad("more than 255 configurations");
    auto cfg = parse_config(c, set.configs.size());
    if (!cfg) return cfg.error();
    set.configs.push_back(std::move(*cfg));
  }
  return set;
}

const ConfigDescriptor* find_config(const DescriptorSet& set, unsigned value) {
  for (const auto& cfg : set.configs) {
    if (cfg.value == value) return &cfg;
  }
  return nullptr;
}

}  // namespace usbrecover
