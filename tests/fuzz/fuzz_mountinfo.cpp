// SPDX-License-Identifier: MIT
// libFuzzer entry for /proc/self/mountinfo and /proc/swaps, which the snapshot reader parses to
// find what is mounted or swapped on below a USB device (btrfs by its source). Links only
// snapshot/mountinfo.cpp. The kernel writes those files, but mount points and swap paths are
// chosen by whoever mounts: whatever the text, parsing ends and every line gives at most one
// mount point, btrfs mount or swap area.

#include <cstddef>
#include <cstdint>

#include "fuzz.hpp"
#include "snapshot/mountinfo.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace usbrecover;
  const auto text = fuzz::as_text(data, size);
  const MountTable table = parse_mountinfo(text);
  std::size_t mounts = 0;
  for (const auto& [dev, points] : table) mounts += points.size();
  std::size_t lines = 1;
  for (char c : text) lines += c == '\n' ? 1 : 0;
  fuzz::check(mounts <= lines, "one mount point at most per line");
  fuzz::check(parse_btrfs_mounts(text).size() <= lines, "one btrfs mount at most per line");
  const auto swaps = parse_swaps(text);
  fuzz::check(swaps.size() <= lines, "one swap area at most per line");
  for (const auto& s : swaps) fuzz::check(!s.empty(), "a swap area names its device");
  return 0;
}
