// SPDX-License-Identifier: MIT
#pragma once

// The two ways of asking a NUT driver how it is, as pure functions over lines:
//  - its own socket (<statepath>/<driver>-<section>): the watcher sends only DUMPALL and PING
//    (the socket has no access control; INSTCMD and SET are never sent), and the driver
//    broadcasts DATASTALE and DATAOK to every client as its data goes stale and comes back;
//  - upsd: `GET VAR <ups> ups.status`, answered `VAR <ups> ups.status "OL"` or, without a login,
//    `ERR DATA-STALE` / `ERR DRIVER-NOT-CONNECTED`.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace usbrecover {

/// What a line from a driver's socket means to the watcher.
enum class DriverLine {
  Pong,       ///< "PONG": the driver is alive and answering
  DataStale,  ///< "DATASTALE": it can no longer read its UPS
  DataOk,     ///< "DATAOK": it reads its UPS again
  DumpDone,   ///< "DUMPDONE": the end of a DUMPALL
  Other,      ///< SETINFO, ADDCMD, ...: the UPS's data, not the watcher's business
};
DriverLine classify_driver_line(std::string_view line);

/// What upsd answered to `GET VAR <ups> ups.status`.
struct UpsdStatus {
  enum class Kind {
    Fresh,        ///< the UPS's status (`value`): the driver has fresh data
    Stale,        ///< ERR DATA-STALE
    DriverDown,   ///< ERR DRIVER-NOT-CONNECTED
    UnknownUps,   ///< ERR UNKNOWN-UPS
    OtherError,   ///< another ERR (ACCESS-DENIED, ...): `value` names it
    NotAnAnswer,  ///< anything else: not upsd, or a different question's answer
  };
  Kind kind = Kind::NotAnAnswer;
  std::string value;
};
UpsdStatus parse_upsd_status(std::string_view line, std::string_view ups);

/// The request the watcher sends upsd for `ups`; nullopt when the name could not be sent as one
/// word (white space, quotes or control characters; NUT's own names never have them).
std::optional<std::string> upsd_status_request(std::string_view ups);

/// Collects bytes from a stream into lines ("\n", a "\r" before it dropped). A line longer than
/// `max_line` is an error: the peer is not speaking the protocol, and the caller hangs up.
class LineBuffer {
 public:
  explicit LineBuffer(std::size_t max_line = 4096) : max_line_(max_line) {}
  /// Adds bytes; returns the lines they complete. After an overlong line, overflowed() is true
  /// and nothing more is returned.
  std::vector<std::string> add(std::string_view bytes);
  [[nodiscard]] bool overflowed() const { return overflowed_; }
  void clear() {
    partial_.clear();
    overflowed_ = false;
  }

 private:
  std::size_t max_line_;
  std::string partial_;
  bool overflowed_ = false;
};

}  // namespace usbrecover
