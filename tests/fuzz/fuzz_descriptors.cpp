// SPDX-License-Identifier: MIT
// libFuzzer entry for the descriptor parsers. Links only helper/snapshot/descriptors.cpp:
// whatever a device sends, parsing must end, stay inside the buffer, and return a value or an
// Error.

#include <cstddef>
#include <cstdint>
#include <span>

#include "snapshot/descriptors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  if (auto hub = usbrecover::parse_hub_descriptor(bytes); hub) {
    // Touch every parsed value so the sanitizers see any garbage.
    volatile unsigned sink =
        hub->nports + hub->power_on_to_good_ms + static_cast<unsigned>(hub->removable.size());
    (void)sink;
  }
  if (auto set = usbrecover::parse_descriptors(bytes); set) {
    std::size_t n = 0;
    for (const auto& cfg : set->configs) {
      for (const auto& intf : cfg.interfaces) n += intf.endpoints.size() + intf.cls;
    }
    (void)usbrecover::find_config(*set, 1);
    volatile std::size_t sink = n;
    (void)sink;
  }
  return 0;
}
