// SPDX-License-Identifier: MIT
#pragma once

// Running systemctl: udev's dispatch starts usbrecover@.service, the stale handover restarts a
// NUT driver's unit.

#include <string>
#include <vector>

#include "error.hpp"

namespace usbrecover {

/// systemctl where Debian puts it (udev gives RUN programs no PATH).
std::string systemctl_path();

/// Runs `systemctl ARGS...` (`path`, or systemctl_path() when empty) and waits for it; an Error
/// naming the command when it cannot run or exits other than 0.
Status run_systemctl(const std::vector<std::string>& args, const std::string& path = {});

}  // namespace usbrecover
