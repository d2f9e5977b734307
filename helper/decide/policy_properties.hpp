// SPDX-License-Identifier: MIT
#pragma once

// The policy of a table device, read back from the USBRECOVER_* udev properties the generated
// rules set (common/properties.hpp is the contract). The helper never reads the TOML table.

#include <map>
#include <string>

#include "error.hpp"
#include "policy.hpp"

namespace usbrecover {

using Properties = std::map<std::string, std::string>;

/// The table entry behind a device, as its properties say.
struct TablePolicy {
  Policy policy;
  std::string name;    ///< USBRECOVER_NAME
  std::string source;  ///< USBRECOVER_SOURCE, "devices.toml:12"
};

/// True when udev tagged the device with any USBRECOVER_* property.
bool has_table_properties(const Properties& props);

/// Reads the policy back. An Error names the property when one is missing or malformed (a
/// rules file from another version, or one edited by hand): never a guessed policy.
Result<TablePolicy> policy_from_properties(const Properties& props);

}  // namespace usbrecover
