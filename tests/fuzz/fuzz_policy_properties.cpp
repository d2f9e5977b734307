// SPDX-License-Identifier: MIT
// libFuzzer entry for the policy the helper reads back from a device's USBRECOVER_* udev
// properties (generated rules, or rules edited by hand). Links only decide/policy_properties.cpp.
// The input is KEY=VALUE lines, as `udevadm info` shows them; a later line for the same key wins.
// Whatever they say, the result is an Error or a policy within the limits a table may set.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "decide/policy_properties.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace usbrecover;
  std::string_view text = fuzz::as_text(data, size);
  Properties props;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    props.insert_or_assign(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
  }
  (void)has_table_properties(props);
  auto table = policy_from_properties(props);
  if (!table) {
    fuzz::check(!table.error().message().empty(), "an Error has a message");
    return 0;
  }
  const Policy& p = table->policy;
  fuzz::check(!p.methods.empty(), "a policy has at least one method");
  fuzz::check(p.max_resets <= kMaxResetsLimit, "max_resets within the table's limit");
  fuzz::check(p.window > Millis(0) && p.window <= kMaxDuration, "window within 1 ms..30 days");
  fuzz::check(p.cooldown >= Millis(0) && p.cooldown <= kMaxDuration, "cooldown within 0..30 days");
  return 0;
}
