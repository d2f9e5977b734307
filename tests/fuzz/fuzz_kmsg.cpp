// SPDX-License-Identifier: MIT
// libFuzzer entry for the kernel's log as the watcher reads it: /dev/kmsg records, a saved log
// split into records, and the USB failures recognised in them. Links only watch/kmsg.cpp. Any
// local root process may write to /dev/kmsg, so every byte is hostile: whatever the text,
// parsing ends, a record is never longer than the limit, only facility 0 is ever acted on, and
// a recognised port is a port path the helper can name.

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz.hpp"
#include "watch/kmsg.hpp"

namespace {

bool port_path(const std::string& p) {
  if (p.empty() || p.size() > 64) return false;
  for (char c : p) {
    if (!((c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  return true;
}

void check_record(std::string_view text) {
  using namespace usbrecover;
  auto record = parse_kmsg_record(text);
  if (!record) return;
  fuzz::check(text.size() <= kMaxKmsgRecord + 1, "an accepted record is not overlong");
  fuzz::check(record->message.find('\n') == std::string::npos, "a message is one line");
  auto event = recognise_kernel_record(*record);
  if (!event) return;
  fuzz::check(record->facility == 0, "only the kernel's own records are recognised");
  fuzz::check(event->kind == KernelEvent::Kind::ControllerDied || port_path(event->port),
              "an enumeration failure or over-current names a port path");
  fuzz::check(event->kind != KernelEvent::Kind::ControllerDied || !event->controller.empty(),
              "a dead controller is named");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace usbrecover;
  const auto text = fuzz::as_text(data, size);
  std::size_t total = 0;
  for (std::string_view record : split_kmsg_records(text)) {
    fuzz::check(!record.empty(), "a split record is never empty");
    total += record.size();
    check_record(record);
  }
  fuzz::check(total <= text.size(), "records do not overlap");
  check_record(text);
  // The message alone, as a record's text after the header.
  if (auto event = recognise_kernel_message(text)) {
    fuzz::check(event->kind == KernelEvent::Kind::ControllerDied || port_path(event->port),
                "a recognised message names a port path");
  }
  if (auto port = port_path_of_kernel_name(text)) {
    fuzz::check(port_path(*port), "a kernel name becomes a port path");
  }
  return 0;
}
