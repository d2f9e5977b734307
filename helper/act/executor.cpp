// SPDX-License-Identifier: MIT
#include "act/executor.hpp"

#include <cerrno>
#include <utility>

#include "util/timings.hpp"

namespace usbrecover {

namespace {

struct Outstanding {
  Action undo;
  Intent intent;
  /// The "off" step failed in a way that proves it did nothing (nothing_happened()): if its undo
  /// fails too, nothing is left off.
  bool off_did_nothing = false;
};

/// An "off" that failed because its file or its device does not exist (ENOENT, ENODEV) did
/// nothing. Any other failure (a timeout, a broken pipe) may have half happened.
bool nothing_happened(const Error& e) {
  return e.errnum == ENOENT || e.errnum == ENODEV;
}

Error stop_error(const std::string& why, const Action& next) {
  return Error{.context = {}, .object = {}, .reason = why + " before '" + to_string(next) + "'", .errnum = 0};
}

}  // namespace

RunReport execute(const Plan& plan, Effects& fx, IntentJournal& journal, const std::string& device,
                  const StopCheck& stop) {
  RunReport report;
  std::vector<Outstanding> outstanding;
  for (const std::string& node : plan.keep_resumed) {
    if (auto st = fx.hold_resumed(node); !st)
      report.not_held.push_back("cannot keep hub " + node + " resumed (" + st.error().message() +
                                "): if it suspends, the kernel may power the port again early");
  }

  for (const Step& step : plan.steps) {
    if (stop) {
      if (auto why = stop()) {
        report.stopped = true;
        report.error = stop_error(*why, step.action);
        break;
      }
    }
    if (step.undo) {
      // Journal first: if we die right after the action, repair must know how to undo it.
      auto intent = [&] {
        timings::Scope timed("intents");
        return journal.record(*step.undo, device);
      }();
      if (!intent) {
        report.error = intent.error();
        break;
      }
      auto st = perform(fx, step.action);
      // Even a failed "off" may have half happened (a hub that timed out after switching), so
      // its undo stays outstanding and is attempted on the way out.
      outstanding.push_back(Outstanding{*step.undo, std::move(*intent), !st && nothing_happened(st.error())});
      if (!st) {
        report.error = st.error();
        break;
      }
      report.performed.push_back(step.action);
      continue;
    }
    auto st = perform(fx, step.action);
    if (!st) {
      report.error = st.error();
      break;
    }
    report.performed.push_back(step.action);
    for (auto it = outstanding.rbegin(); it != outstanding.rend(); ++it) {
      if (it->undo == step.action) {
        // The thing is on again; an intent that cannot be removed would only make repair redo
        // an "on", which is harmless, so this is not a failure of the run.
        {
          timings::Scope timed("intents");
          (void)it->intent.done();
        }
        outstanding.erase(std::next(it).base());
        break;
      }
    }
  }

  // Unwind: last turned off, first turned on. Every undo is tried, whatever happened before.
  while (!outstanding.empty()) {
    Outstanding o = std::move(outstanding.back());
    outstanding.pop_back();
    if (auto st = perform(fx, o.undo); st) {
      report.performed.push_back(o.undo);
      timings::Scope timed("intents");
      (void)o.intent.done();
    } else if (o.off_did_nothing) {
      // The device or its port is gone (or never had that file): there is nothing to turn on,
      // and nothing for repair to do.
      timings::Scope timed("intents");
      (void)o.intent.done();
    } else {
      report.left_off.push_back(o.undo);
      report.undo_errors.push_back(st.error());
      // o.intent goes out of scope unlocked but on disk: `usbrecover repair` takes it from here.
    }
  }
  return report;
}

}  // namespace usbrecover
