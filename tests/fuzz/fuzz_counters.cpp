// SPDX-License-Identifier: MIT
// libFuzzer entry for the counters files in the state directory (metrics) and the Prometheus
// textfile made from them. Links only util/counters.cpp. Whatever a file says, parsing ends, and
// counters that parse are written into a file that parses to the same counters.

#include <cstddef>
#include <cstdint>

#include "fuzz.hpp"
#include "util/counters.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace usbrecover;
  auto counters = parse_counters(fuzz::as_text(data, size));
  if (!counters) return 0;
  auto again = parse_counters(format_counters(*counters));
  fuzz::check(again.ok() && *again == *counters, "counters are read back equal");
  const auto text = format_prometheus({*counters, *again});
  std::size_t lines = 0;
  for (char c : text) lines += c == '\n' ? 1 : 0;
  // The HELP and TYPE lines, then one line per device, method and outcome: a label never breaks
  // a line.
  fuzz::check(lines == 2 + 2 * 2 * counters->by_method.size(), "one Prometheus line per sample");
  return 0;
}
