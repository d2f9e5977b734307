// SPDX-License-Identifier: MIT
#pragma once

// Which block devices are in use, from /proc/self/mountinfo and /proc/swaps. Pure parsing; the
// snapshot reader reads the files and maps block devices below a USB device to their mounts.

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

/// One mounted filesystem whose device number is not a block device's: btrfs gives each
/// filesystem an anonymous number (0:NN), so only the source it was mounted from, and the
/// filesystem's other member devices (/sys/fs/btrfs/FSID/devices/), say which disks hold it.
struct BtrfsMount {
  std::string source;       ///< "/dev/sdb1", as mountinfo gives it, unescaped
  std::string mount_point;  ///< unescaped
};

/// The btrfs filesystems in mountinfo text, in order.
std::vector<BtrfsMount> parse_btrfs_mounts(std::string_view text);

/// The active swap areas on block devices in /proc/swaps text ("/dev/sdb2"), unescaped; swap
/// files are left out (they live on a mounted filesystem, which counts already).
std::vector<std::string> parse_swaps(std::string_view text);

}  // namespace usbrecover
