// SPDX-License-Identifier: MIT
// libFuzzer entry for /proc/self/mountinfo, which the snapshot reader parses to find what is
// mounted below a USB device. Links only snapshot/mountinfo.cpp. The kernel writes that file, but
// mount points are chosen by whoever mounts: whatever the text, parsing ends and every line gives
// at most one mount point.

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
  return 0;
}
