// SPDX-License-Identifier: MIT
#pragma once

// The decision: a pure function of the snapshot, the policy, the history, the trigger, the
// probe's answer and the time. No I/O, no clock. `explain` and `--dry-run` print its result;
// `handle` carries it out.

#include <optional>
#include <string>
#include <vector>

#include "act/methods.hpp"
#include "decide/history.hpp"
#include "decide/remembered_cure.hpp"
#include "policy.hpp"
#include "snapshot/probe.hpp"
#include "snapshot/snapshot.hpp"

namespace usbrecover {

/// Why the helper runs.
enum class Trigger {
  Manual,          ///< a person asked (explain without --trigger)
  Add,             ///< udev: a table device was plugged in or re-enumerated
  ServiceStart,    ///< ExecStartPre of a service about to open the device
  ServiceStop,     ///< ExecStopPost of that service: only records how it ended
  PortFailed,      ///< the watcher: nothing could be enumerated on a port a table entry covers
  ServiceStale,    ///< the watcher: the service's data went stale or it hangs (decided as a start)
  ControllerDied,  ///< the watcher: the host controller the device was on died; only a rebind reaches it
};
std::string_view to_string(Trigger t);
std::optional<Trigger> trigger_from_string(std::string_view s);

/// One method of the policy's ladder and whether it will be tried.
struct Rung {
  Method method = Method::Device;
  bool usable = false;  ///< will be tried, in order, until one recovers the device
  std::string why;      ///< why it is or is not usable
  Plan plan;            ///< its steps, when usable
};

struct Decision {
  enum class Verdict {
    Leave,    ///< nothing to do
    Recover,  ///< try the usable rungs in order
    Refuse,   ///< something is wrong but the helper may not act (rate limit, safety, top of ladder)
  };
  Verdict verdict = Verdict::Leave;
  std::string summary;                  ///< one line, the headline of `explain`
  std::vector<std::string> reasons;     ///< every reason behind it, in the order they were weighed
  std::vector<Rung> ladder;             ///< every method of the policy, from the first
  unsigned budget_left = 0;             ///< recoveries still allowed in the current window
  std::optional<EpochMs> next_allowed;  ///< Refuse for rate: when an attempt is allowed again
  /// The rung that cured this device the last times (remembered_cure.hpp), when the history
  /// remembers one (whatever the verdict), and whether this recovery starts at it.
  std::optional<RememberedCure> remembered;
  bool starts_at_remembered = false;
};
std::string_view to_string(Decision::Verdict v);

/// Everything the decision depends on.
struct PlannerInput {
  const Snapshot& snapshot;
  const Policy& policy;
  const History& history;
  Trigger trigger = Trigger::Manual;
  ProbeResult probe;
  EpochMs now = 0;
  PlanOptions plan_options;
};

/// Decides whether to act, where to start on the ladder, what each method would disturb, and
/// when to stop. See the README's "How usbrecover decides".
Decision decide(const PlannerInput& in);

}  // namespace usbrecover
