// SPDX-License-Identifier: MIT
// libFuzzer entry for the watcher's hand-over requests, which `usbrecover handover` reads as
// root from the unprivileged watcher: whatever the bytes, parsing ends, and what is accepted is
// one of the watcher's own requests, with no option that names another file or unit.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz.hpp"
#include "watch/hand_over.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace usbrecover;
  const auto text = fuzz::as_text(data, size);
  auto parsed = parse_hand_over(text, "/etc/nut/ups.conf");
  if (!parsed) {
    fuzz::check(parsed.error().message().size() < 400, "an error quotes the request only in part");
    return 0;
  }
  const auto& a = *parsed;
  fuzz::check(text.size() <= kMaxHandOverRequest, "an accepted request is not overlong");
  fuzz::check(a[0] == "handle" || a[0] == "over-current", "only handle and over-current get through");
  if (a[0] == "over-current") {
    fuzz::check(a.size() == 3, "over-current has a port and a count");
    return 0;
  }
  fuzz::check(a[2] == "port-failed" || a[2] == "service-stale" || a[2] == "controller-died",
              "only the watcher's triggers");
  for (std::size_t i = 3; i < a.size(); i += 2) {
    fuzz::check(a[i] != "--metrics" && a[i] != "--syspath" && a[i] != "--match" && a[i] != "--timeout",
                "no option the watcher never sends");
    if (a[i] == "--ups-conf") fuzz::check(a[i + 1] == "/etc/nut/ups.conf", "no other ups.conf");
    fuzz::check(a[i + 1].find('\n') == std::string::npos, "a value is one line");
  }
  return 0;
}
