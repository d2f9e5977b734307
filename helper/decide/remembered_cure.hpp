// SPDX-License-Identifier: MIT
#pragma once

// Which rung of the ladder cured this device the last times it failed, read from its history, so
// that the next recovery can start there instead of spending a probe timeout and a reset on each
// rung below it. Pure: the history, the ladder and the time are passed in.

#include <optional>
#include <vector>

#include "decide/history.hpp"
#include "policy.hpp"

namespace usbrecover {

/// How long a cure is remembered after it last worked: the longest window a table may set, so a
/// device that wedges every few weeks still starts where it was cured. The history lives in
/// /run, so a reboot forgets it too.
inline constexpr Millis kRememberCure = kMaxDuration;

/// At most this many cure times are named (the newest).
inline constexpr std::size_t kCureTimesNamed = 3;

/// A method above the bottom of the ladder that cured the device after a rung below it failed.
struct RememberedCure {
  Method method = Method::Device;
  std::vector<EpochMs> cured_at;  ///< newest first, at most kCureTimesNamed
  std::vector<Method>
      failed_below;  ///< the rungs below it that failed before it first cured, in ladder order

  friend bool operator==(const RememberedCure&, const RememberedCure&) = default;
};

/// What the history says about where to start.
struct CureMemory {
  std::optional<RememberedCure> cure;  ///< in force: the next recovery may start at it
  /// The remembered method's failure that made it forgotten (within kRememberCure of `now`, and
  /// no cure counted since), so `explain` can say why the ladder starts from the bottom again.
  std::optional<Attempt> lapsed;

  friend bool operator==(const CureMemory&, const CureMemory&) = default;
};

/// Reads the attempts oldest first:
/// - a cure by a method of `ladder` other than its first, after a rung below it failed (since the
///   previous cure), becomes the remembered cure; a further cure by the same method renews it;
/// - a cure by the first rung, or by a method no failure below it justifies, forgets it;
/// - a failure of the remembered method forgets it, and the cure that ends that run does not
///   count either, so the next recovery climbs from the bottom and learns again;
/// - it is forgotten kRememberCure after its last cure, and when the ladder no longer lists it.
/// Attempts after `now` are ignored.
CureMemory remembered_cure(const History& history, const std::vector<Method>& ladder, EpochMs now);

}  // namespace usbrecover
