// SPDX-License-Identifier: MIT
#pragma once

// Records of the kernel's log as /dev/kmsg hands them out, and the USB failures among them that
// no uevent announces. Pure: cmd_watch reads /dev/kmsg (or a file in the same format) and
// feeds the records here.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace usbrecover {

/// One record: "PRI,SEQ,USEC,FLAGS;MESSAGE" and continuation lines " KEY=VALUE" (kernel
/// Documentation/ABI/testing/dev-kmsg). The message keeps the kernel's \xNN escapes.
struct KmsgRecord {
  unsigned facility = 0;  ///< PRI / 8: 0 is the kernel; anything else was written by a process
  unsigned level = 0;     ///< PRI % 8
  std::uint64_t seq = 0;
  std::uint64_t usec = 0;  ///< since boot
  std::string message;
  std::vector<std::pair<std::string, std::string>> dict;  ///< SUBSYSTEM=usb, DEVICE=+usb:1-1.2, ...
};

/// The longest record parse_kmsg_record accepts (a read of /dev/kmsg returns at most one
/// record of a few kilobytes; a longer one is not the kernel's).
inline constexpr std::size_t kMaxKmsgRecord = 16 * 1024;

/// Parses one record as one read() of /dev/kmsg returns it, with or without its final newline.
/// nullopt for anything else: a bad header, numbers out of range, an overlong record.
std::optional<KmsgRecord> parse_kmsg_record(std::string_view text);

/// Splits text holding many records (a saved /dev/kmsg, `watch --kmsg FILE`) into records: a
/// record starts at a line that does not start with a space.
std::vector<std::string_view> split_kmsg_records(std::string_view text);

/// What the watcher recognises in a kernel record.
struct KernelEvent {
  enum class Kind { EnumerationFailed, OverCurrent, ControllerDied };
  Kind kind = Kind::EnumerationFailed;
  std::string port;        ///< the port path ("1-1.2") for EnumerationFailed and OverCurrent
  std::string controller;  ///< the host controller ("0000:00:14.0") for ControllerDied
  /// EnumerationFailed: the kernel stopped trying ("unable to enumerate USB device"); the
  /// earlier messages of a failure come while it still retries.
  bool gave_up = false;
  std::string message;  ///< the kernel's message, as it wrote it
};
std::string_view to_string(KernelEvent::Kind k);

/// The event a kernel message announces: an enumeration failure (a descriptor read or an
/// address that fails, "unable to enumerate USB device", "Cannot enable"), an over-current, a
/// host controller declared dead. nullopt for any other message.
std::optional<KernelEvent> recognise_kernel_message(std::string_view message);

/// The watcher's reading of a record: only the kernel's own records (facility 0) count, since
/// any local root process may write lines to /dev/kmsg (they get facility 1 or more).
std::optional<KernelEvent> recognise_kernel_record(const KmsgRecord& record);

/// The port path a kernel USB device name stands for: a device "1-1.2" itself, a hub port
/// "1-1-port2" -> "1-1.2", a root hub port "usb1-port2" -> "1-2". nullopt for anything else.
std::optional<std::string> port_path_of_kernel_name(std::string_view name);

}  // namespace usbrecover
