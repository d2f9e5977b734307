// SPDX-License-Identifier: MIT
#pragma once

// Which block devices have mounted filesystems, from /proc/self/mountinfo. Pure parsing; the
// snapshot reader reads the file and maps block devices below a USB device to their mounts.

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace usbrecover {

/// major:minor -> mount points, in mountinfo order.
using MountTable = std::map<std::pair<unsigned, unsigned>, std::vector<std::string>>;

/// Parses mountinfo text (proc(5)). Mount points are unescaped (`\040` is a space). Lines that
/// do not have the documented shape are skipped: the kernel writes this file, and a filesystem
/// we cannot place is no reason to refuse a snapshot.
MountTable parse_mountinfo(std::string_view text);

}  // namespace usbrecover
