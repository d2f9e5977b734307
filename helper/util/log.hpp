// SPDX-License-Identifier: MIT
#pragma once

// One line per decision and per outcome, with the reasons. To the journal with structured
// fields and a MESSAGE_ID (see data/usbrecover.catalog) when the helper runs under systemd,
// to stderr otherwise. Repeated identical failures are thinned out: the first ten are logged,
// then every hundredth, so a device that keeps failing does not flood the log.

#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace usbrecover {

/// MESSAGE_IDs, one per kind of line; the catalog explains each.
namespace message_id {
inline constexpr const char* kDecision = "4f9e1c2a7b3d4e5f8a6b9c0d1e2f3a4b";
inline constexpr const char* kRecovered = "8c2d6e0f4a1b4c3d9e7f5a2b6c8d0e1f";
inline constexpr const char* kFailed = "d1e3f5a7b9c24d6e8f0a1b3c5d7e9f20";
inline constexpr const char* kRefused = "a7b9c1d3e5f74a8b9c0d2e4f6a8b0c1d";
inline constexpr const char* kOverCurrent = "3b5d7f91a2c44e6b8d0f2a4c6e8b1d35";
inline constexpr const char* kControllerDied = "e2c4a6f8b0d24f1a9c3e5b7d9f1a3c57";
inline constexpr const char* kNoEnumeration = "5c7e9a1b3d5f4b2c8e0a2c4e6a8c0e79";
}  // namespace message_id

enum class Priority { Err = 3, Warning = 4, Notice = 5, Info = 6 };

struct LogLine {
  Priority priority = Priority::Info;
  const char* message_id = nullptr;
  std::string message;
  std::vector<std::pair<std::string, std::string>> fields;  ///< USBRECOVER_DEVICE=1-1.2, ...
};

/// Decides whether the n-th identical failure in a row (n >= 1) is logged.
bool log_repeat(unsigned n);
/// The note appended to the tenth identical failure.
inline constexpr const char* kRepeatNote = " (repeated failures are now logged every 100th time)";

/// The journal's native protocol: a datagram of fields, "KEY=value\n" each, or for a value with a
/// line break "KEY\n", its size as 64-bit little-endian, the value, "\n".
void append_journal_field(std::string& out, std::string_view key, std::string_view value);
/// The datagram for one line: MESSAGE ("usbrecover: …"), PRIORITY, SYSLOG_IDENTIFIER,
/// MESSAGE_ID when set, then the line's own fields.
std::string journal_entry(const LogLine& line);

class Logger {
 public:
  /// `journal`: send to the journal (its socket, `journal_socket`) instead of `err`; a line the
  /// journal does not take goes to `err`.
  Logger(std::ostream& err, bool journal, std::string journal_socket = "/run/systemd/journal/socket")
      : err_(err), journal_(journal), journal_socket_(std::move(journal_socket)) {}
  /// True when stderr is the journal's stream (systemd sets JOURNAL_STREAM).
  static bool stderr_is_journal();

  void log(const LogLine& line);

 private:
  std::ostream& err_;
  bool journal_;
  std::string journal_socket_;
};

}  // namespace usbrecover
