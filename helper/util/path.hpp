// SPDX-License-Identifier: MIT
#pragma once

// Path checks shared by everything that is handed a path it must not leave.

#include <string>

namespace usbrecover {

/// True when `path` is absolute, lies strictly below `root` and has no "." or ".." component
/// and no empty one, so a prefix test cannot be fooled.
bool is_below(const std::string& path, const std::string& root);

}  // namespace usbrecover
