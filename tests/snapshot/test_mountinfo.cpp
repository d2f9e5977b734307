// SPDX-License-Identifier: MIT
// mountinfo and /proc/swaps, as the kernel writes them: fields, optional fields, escapes.
#include <gtest/gtest.h>

#include "snapshot/mountinfo.hpp"

namespace usbrecover {
namespace {

constexpr const char* kMountinfo =
    "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro\n"
    "98 22 8:17 / /media/user/USB\\040STICK rw,nosuid shared:52 master:3 - vfat /dev/sdb1 rw\n"
    "40 22 0:45 /@home /home rw,relatime shared:7 - btrfs /dev/sdc2 rw,space_cache=v2\n"
    "41 22 0:45 /@data /srv/data\\011tab rw - btrfs /dev/mapper/pool rw\n"
    "garbage line\n"
    "50 22 0:46 / /run/user/1000 rw - tmpfs tmpfs rw\n";

TEST(Mountinfo, MapsDeviceNumbersToUnescapedMountPoints) {
  const MountTable t = parse_mountinfo(kMountinfo);
  EXPECT_EQ(t.at({8, 17}), (std::vector<std::string>{"/media/user/USB STICK"}));
  EXPECT_EQ(t.at({0, 45}), (std::vector<std::string>{"/home", "/srv/data\ttab"}));
  EXPECT_EQ(t.count({259, 3}), 0u);
}

TEST(Mountinfo, FindsBtrfsMountsAndTheirSourcesPastTheOptionalFields) {
  const auto b = parse_btrfs_mounts(kMountinfo);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].source, "/dev/sdc2");
  EXPECT_EQ(b[0].mount_point, "/home");
  EXPECT_EQ(b[1].source, "/dev/mapper/pool");
  EXPECT_EQ(b[1].mount_point, "/srv/data\ttab");
  EXPECT_TRUE(parse_btrfs_mounts("1 2 0:1 / /x rw - btrfs\n").empty()) << "no source: skipped";
  EXPECT_TRUE(parse_btrfs_mounts("").empty());
}

TEST(Swaps, ListsPartitionsNotFiles) {
  const auto s = parse_swaps(
      "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
      "/swapfile                               file\t\t1048572\t\t0\t\t-2\n"
      "/dev/sdb2                               partition\t524284\t\t0\t\t-3\n"
      "/dev/disk\\040with\\040space            partition\t1\t\t0\t\t-4\n");
  EXPECT_EQ(s, (std::vector<std::string>{"/dev/sdb2", "/dev/disk with space"}));
  EXPECT_TRUE(parse_swaps("Filename Type Size Used Priority\n").empty());
  EXPECT_TRUE(parse_swaps("").empty());
}

}  // namespace
}  // namespace usbrecover
