// SPDX-License-Identifier: MIT
#pragma once

// The udev properties that carry a table entry's policy from the generated rules to the helper,
// so the helper never reads the TOML table on an event. This header is the whole contract between
// usbrecover-gen and usbrecover: both sides use these names and nothing else.

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
inline constexpr const char* kProbe = "USBRECOVER_PROBE";  ///< none|open|descriptor|megatec-q1
inline constexpr const char* kAllowCollateral = "USBRECOVER_ALLOW_COLLATERAL";  ///< "0" or "1"
inline constexpr const char* kServices = "USBRECOVER_SERVICES";  ///< space-separated unit names

}  // namespace usbrecover::prop
