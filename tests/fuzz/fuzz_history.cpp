// SPDX-License-Identifier: MIT
// libFuzzer entry for history files, which the helper reads from the state directory on every
// decision. Links only decide/history.cpp. Whatever a file says, parsing ends, and a history that
// parses is written by format_history() into a file that parses to an equal history.

#include <cstddef>
#include <cstdint>

#include "decide/history.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace usbrecover;
  auto history = parse_history(fuzz::as_text(data, size));
  if (!history) {
    fuzz::check(!history.error().message().empty(), "an Error has a message");
    return 0;
  }
  auto again = parse_history(format_history(*history));
  fuzz::check(again.ok(), "a formatted history parses");
  fuzz::check(*again == *history, "a history is read back equal");
  return 0;
}
