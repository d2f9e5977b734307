// SPDX-License-Identifier: MIT
#pragma once

// What the watcher knows of one NUT driver it watches, as a pure state machine over time: fed
// with what its socket (or upsd) says, it tells whether the driver is healthy, stale or hung,
// when to ping it, when to look again, and when to hand the case over to `usbrecover handle`.
// No I/O and no clock inside: every call takes `now`.

#include <chrono>
#include <optional>
#include <string>

#include "policy.hpp"
#include "watch/nut_protocol.hpp"

namespace usbrecover {

class DriverWatch {
 public:
  using Clock = std::chrono::steady_clock;
  using Time = Clock::time_point;

  struct Timing {
    Millis stale_after{10'000};  ///< data stale this long: hand over (the table's stale_after)
    Millis ping_every{30'000};   ///< how often a connected driver is asked PING
    Millis pong_within{10'000};  ///< no PONG this long after a PING: the driver hangs
    Millis retry_every{5'000};   ///< reconnect to a driver that is not there (restarting, stopped)
  };

  /// The verdict, strongest last.
  enum class State {
    Unknown,  ///< not connected, or nothing heard yet
    Healthy,  ///< fresh data (DATAOK, or a status from upsd)
    Stale,    ///< DATASTALE (or upsd's ERR DATA-STALE), for stale_for()
    Hung,     ///< a PING went unanswered
  };

  explicit DriverWatch(Timing timing) : timing_(timing) {}

  /// A connection to the driver (its socket, or upsd) is up: the watcher sends DUMPALL and PING.
  void connected(Time now);
  /// The connection broke or could not be made: the driver restarts or is stopped. What was
  /// seen of it no longer holds; a new connection is tried retry_every later.
  void disconnected(Time now);
  /// A line from the driver's socket.
  void driver_line(Time now, DriverLine line);
  /// upsd's answer to the status request (polled every ping_every instead of PING).
  void upsd_answer(Time now, const UpsdStatus& status);
  /// A PING was sent at `now`: a PONG is due within pong_within.
  void pinged(Time now);
  /// upsd was asked at `now` (its own silence is not the driver's: the caller hangs up on it).
  void polled(Time now) { last_ping_ = now; }

  [[nodiscard]] State state(Time now) const;
  [[nodiscard]] bool is_connected() const { return connected_; }
  /// How long the data has been stale (zero when it is not).
  [[nodiscard]] Millis stale_for(Time now) const;
  /// Time to send a PING (or poll upsd).
  [[nodiscard]] bool ping_due(Time now) const;
  /// Time to try connecting again.
  [[nodiscard]] bool reconnect_due(Time now) const;

  /// Whether to hand the driver over now: stale for stale_after or hung, and not handed over
  /// for this episode yet (nor held back: see hold_until).
  [[nodiscard]] bool hand_over_due(Time now) const;
  /// Why, for the handover and the log: "data stale for 12s (stale_after 10s)", "no answer to
  /// PING for 10s".
  [[nodiscard]] std::string reason(Time now) const;
  /// The case was handed over: nothing more until the driver reconnects or its data is fresh.
  void handed_over();
  /// No handover before `until` (the budget is spent); then, if the driver is still stale or
  /// hung, once more.
  void hold_until(Time until);

  /// When something is next due (a PING, a PONG's deadline, stale_after, a reconnect, the end
  /// of a hold); nullopt when only the driver can wake the watcher.
  [[nodiscard]] std::optional<Time> next_wakeup() const;

 private:
  Timing timing_;
  bool connected_ = false;
  bool heard_ = false;  ///< anything the state could be judged on since connecting
  bool healthy_ = false;
  std::optional<Time> stale_since_;
  std::optional<Time> last_ping_;
  std::optional<Time> pong_due_;
  std::optional<Time> retry_at_;
  std::optional<Time> hold_until_;
  bool handed_over_ = false;
};

}  // namespace usbrecover
