// SPDX-License-Identifier: MIT
#pragma once

// Carries out a Plan through an Effects, keeping the guarantee: whatever a step turns off is
// turned back on before execute() returns — after an error, after a stop request (a signal, the
// timeout) — and while it is off, an intent file says how to turn it on should this process die.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "act/effects.hpp"
#include "act/intent.hpp"
#include "act/methods.hpp"
#include "error.hpp"

namespace usbrecover {

/// Asked before every step; a reason ("interrupted by SIGTERM", "timed out after 30s") stops
/// the run and everything turned off is turned back on.
using StopCheck = std::function<std::optional<std::string>()>;

/// What execute() did.
struct RunReport {
  std::optional<Error> error;     ///< the first failure or the stop reason; empty on success
  bool stopped = false;           ///< a StopCheck ended the run early
  std::vector<Action> performed;  ///< every action that succeeded, undos included, in order
  /// Undos that failed even on the way out. Their intent files remain for `usbrecover repair`.
  std::vector<Action> left_off;
  std::vector<Error> undo_errors;  ///< why, one per left_off entry
  /// Hubs of Plan::keep_resumed that could not be held resumed, each with why. Not a failure:
  /// the run goes on as it would without the hold.
  std::vector<std::string> not_held;

  [[nodiscard]] bool ok() const { return !error; }
};

/// Runs the plan's steps in order, with the hubs of Plan::keep_resumed held resumed first (those
/// holds last as long as `fx`). A step with an undo is journaled first (if that fails, the
/// step is not taken); a later step equal to an outstanding undo closes it and removes its
/// intent. On the first failure or stop, the outstanding undos run last-in first-out, each
/// attempted even when an earlier one failed. `device` labels the intents ("1-1.2 0665:5161").
RunReport execute(const Plan& plan, Effects& fx, IntentJournal& journal, const std::string& device,
                  const StopCheck& stop = {});

}  // namespace usbrecover
