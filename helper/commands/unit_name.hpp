// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

namespace usbrecover {

/// Escapes a path as `systemd-escape --path` does: slashes collapse to '-', the leading and
/// trailing ones go, and every byte but [A-Za-z0-9:_.] (and a leading '.') becomes \xNN.
std::string escape_path(std::string_view path);

/// "usbrecover@devices-pci0000:00-...-1\x2d1.2.service" for a device path below the sysfs root
/// ("/devices/pci0000:00/.../1-1.2"); usbrecover@.service turns it back into /sys%f.
std::string recover_unit_for(std::string_view devpath);

}  // namespace usbrecover
