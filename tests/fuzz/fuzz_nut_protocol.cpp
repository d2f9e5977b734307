// SPDX-License-Identifier: MIT
// libFuzzer entry for what NUT's processes send the watcher: a driver's socket and upsd's
// answers, as a stream cut into lines. Links only watch/nut_protocol.cpp. The driver's socket has
// no access control, so anyone able to create it can send anything: whatever the bytes, no line
// is longer than the buffer's limit, and a request is only ever built from a name that fits in
// one word.

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz.hpp"
#include "watch/nut_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace usbrecover;
  const auto text = fuzz::as_text(data, size);

  // The stream in two reads, split where the first byte says.
  const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  LineBuffer buffer(64);
  auto lines = buffer.add(text.substr(0, cut));
  auto more = buffer.add(text.substr(cut));
  lines.insert(lines.end(), more.begin(), more.end());
  std::size_t newlines = 0;
  for (char c : text) newlines += c == '\n' ? 1 : 0;
  fuzz::check(lines.size() <= newlines, "a line ends at a newline");
  for (const auto& line : lines) {
    fuzz::check(line.size() <= 64, "no line is longer than the limit");
    fuzz::check(line.find('\n') == std::string::npos, "a line holds no newline");
    classify_driver_line(line);
    const UpsdStatus status = parse_upsd_status(line, "ups");
    fuzz::check(status.kind != UpsdStatus::Kind::Fresh || line.starts_with("VAR ups ups.status "),
                "fresh data is only upsd's answer for this UPS");
  }
  if (buffer.overflowed()) fuzz::check(buffer.add("x\n").empty(), "after an overlong line, nothing");

  if (auto request = upsd_status_request(text)) {
    fuzz::check(request->find('\n') == request->size() - 1, "a request is one line");
    for (char c : text) {
      const auto u = static_cast<unsigned char>(c);
      fuzz::check(u > 0x20 && u < 0x7f && c != '"' && c != '\\', "a request names the UPS in one plain word");
    }
  }
  return 0;
}
