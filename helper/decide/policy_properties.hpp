// SPDX-License-Identifier: MIT
#pragma once

// The policy of a table device, read back from the USBRECOVER_* udev properties the generated
// rules set (common/properties.hpp is the contract). The helper never reads the TOML table.

#include <map>
#include <string>
#include <vector>

#include "error.hpp"
#include "policy.hpp"

namespace usbrecover {

using Properties = std::map<std::string, std::string>;

/// The table entry behind a device (or a port), as its properties say.
struct TablePolicy {
  Policy policy;
  std::string name;        ///< USBRECOVER_NAME
  std::string source;      ///< USBRECOVER_SOURCE, "devices.toml:12"
  std::vector<UsbId> ids;  ///< a port entry's USBRECOVER_IDS: what may enumerate there (empty: any)
  std::vector<std::string> services;  ///< USBRECOVER_SERVICES: the units that use the device
};

/// True when udev tagged the device with any USBRECOVER_* property (for `port` > 0: with any
/// USBRECOVER_PORT<port>_* property, a port entry's, which the rules put on the hub).
bool has_table_properties(const Properties& props, unsigned port = 0);

/// Reads the policy back: the device's own, or for `port` > 0 the port entry's from its hub's
/// properties. An Error names the property when one is missing or malformed (a rules file from
/// another version, or one edited by hand): never a guessed policy.
Result<TablePolicy> policy_from_properties(const Properties& props, unsigned port = 0);

}  // namespace usbrecover
