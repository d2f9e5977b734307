// SPDX-License-Identifier: MIT
#include "watch/driver_watch.hpp"

#include <algorithm>

namespace usbrecover {

namespace {

Millis ms(DriverWatch::Clock::duration d) {
  return std::chrono::duration_cast<Millis>(d);
}

}  // namespace

void DriverWatch::connected(Time now) {
  connected_ = true;
  heard_ = false;
  healthy_ = false;
  stale_since_.reset();
  pong_due_.reset();
  retry_at_.reset();
  last_ping_ = now;  // DUMPALL and PING go out with the connection
  pong_due_ = now + timing_.pong_within;
  handed_over_ = false;  // a new connection: a driver that (re)started
}

void DriverWatch::disconnected(Time now) {
  connected_ = false;
  heard_ = false;
  healthy_ = false;
  stale_since_.reset();
  pong_due_.reset();
  last_ping_.reset();
  retry_at_ = now + timing_.retry_every;
}

void DriverWatch::driver_line(Time now, DriverLine line) {
  switch (line) {
    case DriverLine::Pong:
      pong_due_.reset();
      heard_ = true;
      break;
    case DriverLine::DataStale:
      heard_ = true;
      healthy_ = false;
      if (!stale_since_) stale_since_ = now;
      break;
    case DriverLine::DataOk:
      heard_ = true;
      healthy_ = true;
      stale_since_.reset();
      handed_over_ = false;  // this episode is over
      hold_until_.reset();
      break;
    case DriverLine::DumpDone:
    case DriverLine::Other:
      break;
  }
}

void DriverWatch::upsd_answer(Time now, const UpsdStatus& status) {
  pong_due_.reset();
  switch (status.kind) {
    case UpsdStatus::Kind::Fresh:
      driver_line(now, DriverLine::DataOk);
      break;
    case UpsdStatus::Kind::Stale:
      driver_line(now, DriverLine::DataStale);
      break;
    case UpsdStatus::Kind::DriverDown:
    case UpsdStatus::Kind::UnknownUps:
    case UpsdStatus::Kind::OtherError:
    case UpsdStatus::Kind::NotAnAnswer:
      // upsd answers, but not for a driver it talks to: nothing to judge (systemd restarts a
      // driver that is down; its start is usbrecover's ExecStartPre).
      heard_ = false;
      healthy_ = false;
      stale_since_.reset();
      break;
  }
}

void DriverWatch::pinged(Time now) {
  last_ping_ = now;
  if (!pong_due_) pong_due_ = now + timing_.pong_within;
}

DriverWatch::State DriverWatch::state(Time now) const {
  if (!connected_) return State::Unknown;
  if (pong_due_ && now >= *pong_due_) return State::Hung;
  if (stale_since_) return State::Stale;
  if (healthy_) return State::Healthy;
  return heard_ ? State::Healthy : State::Unknown;
}

Millis DriverWatch::stale_for(Time now) const {
  return stale_since_ && connected_ ? ms(now - *stale_since_) : Millis(0);
}

bool DriverWatch::ping_due(Time now) const {
  return connected_ && !pong_due_ && (!last_ping_ || now - *last_ping_ >= timing_.ping_every);
}

bool DriverWatch::reconnect_due(Time now) const {
  return !connected_ && (!retry_at_ || now >= *retry_at_);
}

bool DriverWatch::hand_over_due(Time now) const {
  if (!connected_ || handed_over_) return false;
  if (hold_until_ && now < *hold_until_) return false;
  const State s = state(now);
  return s == State::Hung || (s == State::Stale && stale_for(now) >= timing_.stale_after);
}

std::string DriverWatch::reason(Time now) const {
  // Whole seconds past ten: milliseconds are noise in a log line.
  auto words = [](Millis d) { return format_duration(d >= Millis(10'000) ? d - d % Millis(1000) : d); };
  if (state(now) == State::Hung && last_ping_) return "no answer to PING for " + words(ms(now - *last_ping_));
  return "data stale for " + words(stale_for(now)) + " (stale_after " + format_duration(timing_.stale_after) +
         ")";
}

void DriverWatch::handed_over() {
  handed_over_ = true;
  hold_until_.reset();
}

void DriverWatch::hold_until(Time until) {
  hold_until_ = until;
}

std::optional<DriverWatch::Time> DriverWatch::next_wakeup() const {
  std::optional<Time> next;
  auto consider = [&next](std::optional<Time> t) {
    if (t && (!next || *t < *next)) next = t;
  };
  if (!connected_) {
    consider(retry_at_ ? retry_at_ : std::optional<Time>(Time{}));
    return next;
  }
  consider(pong_due_);
  if (!pong_due_ && last_ping_) consider(*last_ping_ + timing_.ping_every);
  if (stale_since_ && !handed_over_) consider(*stale_since_ + timing_.stale_after);
  if (hold_until_) consider(hold_until_);
  return next;
}

}  // namespace usbrecover
