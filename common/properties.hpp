// SPDX-License-Identifier: MIT
#pragma once

// The udev properties that carry a table entry's policy from the generated rules to the helper,
// so the helper never reads the TOML table on an event. This header is the whole contract between
// usbrecover-gen and usbrecover: both sides use these names and nothing else.

#include <string>

namespace usbrecover::prop {

/// Version of this set of properties; the helper refuses a version it does not know.
inline constexpr const char* kSchema = "USBRECOVER_SCHEMA";
inline constexpr const char* kSchemaValue = "1";
inline constexpr const char* kName = "USBRECOVER_NAME";        ///< the entry's name
inline constexpr const char* kSource = "USBRECOVER_SOURCE";    ///< "devices.toml:12" of the entry
inline constexpr const char* kMethods = "USBRECOVER_METHODS";  ///< "device,rebind,port-power"
inline constexpr const char* kMaxResets = "USBRECOVER_MAX_RESETS";
inline constexpr const char* kWindowMs = "USBRECOVER_WINDOW_MS";
inline constexpr const char* kCooldownMs = "USBRECOVER_COOLDOWN_MS";
inline constexpr const char* kProbe = "USBRECOVER_PROBE";  ///< none|open|descriptor|megatec-q1|control
inline constexpr const char* kAllowCollateral = "USBRECOVER_ALLOW_COLLATERAL";  ///< "0" or "1"
inline constexpr const char* kServices = "USBRECOVER_SERVICES";  ///< space-separated unit names
/// Optional (older rules lack them; the table's defaults apply): milliseconds.
inline constexpr const char* kStaleAfterMs = "USBRECOVER_STALE_AFTER_MS";
inline constexpr const char* kOffTimeMs = "USBRECOVER_OFF_TIME_MS";
/// What only the rules read, for an entry the hwdb carries (70-usbrecover.hwdb): the node's group
/// and mode (empty: udev's), and "1" to keep the device awake (power/control = "on").
inline constexpr const char* kGroup = "USBRECOVER_GROUP";
inline constexpr const char* kMode = "USBRECOVER_MODE";
inline constexpr const char* kKeepAwake = "USBRECOVER_KEEP_AWAKE";
/// For a port entry, on its hub: the ids a device that enumerates there must have, space-separated
/// ("0665:5161 06da:*"), empty for any.
inline constexpr const char* kIds = "USBRECOVER_IDS";

/// "1" on every USB device whose ids an entry of the table names, whether or not an entry matched
/// it (a twin of an entry with a serial has it too). The rules also tag those devices kTag, and
/// the helper finds a device by its ids in udev's index of that tag. The property, unlike a tag,
/// goes when the rules no longer name the ids.
inline constexpr const char* kTableIds = "USBRECOVER_TABLE_IDS";
inline constexpr const char* kTag = "usbrecover";

/// A table entry with a `port` covers what fails to enumerate there, before any device exists to
/// carry properties: its policy goes on the hub, every name above with "USBRECOVER_PORT<N>_" in
/// place of "USBRECOVER_" for port N ("USBRECOVER_PORT2_METHODS").
inline std::string port_property(unsigned port, const char* name) {
  return "USBRECOVER_PORT" + std::to_string(port) + "_" + std::string(name + 11);  // past "USBRECOVER_"
}

}  // namespace usbrecover::prop
