// SPDX-License-Identifier: MIT
#include "commands/handle_stale.hpp"

#include <ostream>

#include "commands/systemctl.hpp"
#include "decide/planner.hpp"
#include "util/text.hpp"

namespace usbrecover {

namespace {

constexpr EpochMs kVerdictStands = 120'000;

}  // namespace

const ServiceEnd* watcher_verdict(const History& h, const std::string& unit, EpochMs now) {
  if (h.services.empty()) return nullptr;
  const ServiceEnd& last = h.services.back();
  if (last.exit_code != kWatcherVerdict || last.unit != unit || now - last.at > kVerdictStands)
    return nullptr;
  return &last;
}

int restart_stale_service(const EntryOptions& o, Context& ctx, const DeviceContext& dc, History& history,
                          const StateStore& store, std::optional<DeviceLock>& lock, Logger& log) {
  const std::string reason = o.reason.empty() ? "data stale" : o.reason;
  const bool hung = reason.starts_with("no answer");
  const EpochMs now = epoch_now();
  ServiceEnd verdict{now, o.unit, true, hung ? "hung" : "stale", kWatcherVerdict, reason};
  std::vector<std::pair<std::string, std::string>> f = {{"USBRECOVER_DEVICE", dc.snapshot.device.sysname},
                                                        {"USBRECOVER_TRIGGER", "service-stale"},
                                                        {"USBRECOVER_UNIT", o.unit},
                                                        {"USBRECOVER_ENTRY", dc.table->name}};

  // Would the start after the restart be allowed to recover the device? Ask as it will.
  History after = history;
  after.services.push_back(verdict);
  const Policy& policy = dc.table->policy;
  Decision d = decide(PlannerInput{dc.snapshot, policy, after, Trigger::ServiceStale,
                                   ProbeResult{ProbeResult::State::Failed, reason}, now,
                                   PlanOptions{.sysfs_root = ctx.sysfs_root, .off_time = policy.off_time}});
  if (o.dry_run) {
    ctx.out << who(dc) << ": " << o.unit << ": " << reason << "; "
            << (d.verdict == Decision::Verdict::Refuse ? "would not restart it: " + d.summary
                                                       : "would record it as failed and restart it")
            << "\n";
    return d.verdict == Decision::Verdict::Refuse ? kExitRefused : kExitOk;
  }
  if (d.verdict == Decision::Verdict::Refuse) {
    const std::string what = o.unit + ": " + reason + "; not restarted: " + d.summary;
    history.failure_streak = what == history.last_failure ? history.failure_streak + 1 : 1;
    history.last_failure = what;
    if (log_repeat(history.failure_streak))
      log.log(LogLine{Priority::Warning, message_id::kRefused, terminal_safe(who(dc) + ": " + what), f});
    (void)store.save(dc.key, history);
    return kExitRefused;
  }
  history.services.push_back(verdict);
  if (auto s = store.save(dc.key, history); !s) {
    log.log(LogLine{Priority::Err, nullptr, terminal_safe("handle: " + s.error().message()), {}});
    return kExitSoftware;
  }
  lock.reset();  // the restart's ExecStopPost and ExecStartPre take it
  log.log(LogLine{
      Priority::Notice, message_id::kDecision,
      terminal_safe(who(dc) + ": " + o.unit + ": " + reason + "; recorded as a failed run, restarting it " +
                    "so that its start recovers the device"),
      f});
  if (auto st = run_systemctl({"--no-block", "restart", o.unit}, ctx.systemctl); !st) {
    log.log(LogLine{Priority::Err, nullptr, terminal_safe("handle: " + st.error().message()), f});
    return kExitSoftware;
  }
  return kExitOk;
}

}  // namespace usbrecover
