// SPDX-License-Identifier: MIT
#include "decide/planner.hpp"

#include <algorithm>
#include <array>

namespace usbrecover {

namespace {

constexpr std::array<std::string_view, 7> kTriggerNames = {
    "manual", "add", "service-start", "service-stop", "port-failed", "service-stale", "controller-died"};

std::string when(EpochMs at, EpochMs now) {
  return at <= now ? "now" : "in " + format_duration(Millis(at - now));
}

/// "10s ago"; past ten seconds, milliseconds are noise in a log line.
std::string ago(EpochMs at, EpochMs now) {
  EpochMs d = std::max<EpochMs>(0, now - at);
  if (d >= 10'000) d -= d % 1000;
  return format_duration(Millis(d)) + " ago";
}

/// The last time the device was recovered, or nullopt.
std::optional<EpochMs> last_recovery(const History& h) {
  std::optional<EpochMs> t;
  for (const auto& a : h.attempts)
    if (a.recovered) t = a.at;
  return t;
}

/// Whether this run needs to recover the device; `why` says why or why not.
bool needs_recovery(const PlannerInput& in, std::string& why) {
  const auto& probe = in.probe;
  bool probe_failed = probe.state == ProbeResult::State::Failed;
  std::string probe_said = probe.detail.empty() ? "" : " (" + probe.detail + ")";
  switch (in.trigger) {
    case Trigger::ServiceStop:
      why = "the service stopped; its result is recorded for the next start";
      return false;
    case Trigger::ServiceStale:
    case Trigger::ServiceStart: {
      // The service's last run failed after our last recovery: the device did not stay well.
      auto recovered = last_recovery(in.history);
      const ServiceEnd* last = in.history.services.empty() ? nullptr : &in.history.services.back();
      if (last && last->failed && (!recovered || last->at > *recovered)) {
        why = "the last run of " + last->unit + " failed " + ago(last->at, in.now) + " (" + last->result +
              (last->exit_status.empty() ? "" : ", status " + last->exit_status) + ")";
        return true;
      }
      if (probe_failed) {
        why = "the probe failed" + probe_said;
        return true;
      }
      why = probe.state == ProbeResult::State::Healthy
                ? "the probe answered" + probe_said + " and the service's last run did not fail"
                : "no probe is configured and the service's last run did not fail";
      return false;
    }
    case Trigger::PortFailed:
      why = "nothing could be enumerated on port " + in.snapshot.device.port_path + " (the kernel gave up)";
      return true;
    case Trigger::ControllerDied:
      why = "host controller " + in.snapshot.controller.name + " died and took the device on port " +
            in.snapshot.device.port_path + " with it";
      return true;
    case Trigger::Add:
    case Trigger::Manual:
      if (probe_failed) {
        why = "the probe failed" + probe_said;
        return true;
      }
      why = probe.state == ProbeResult::State::Healthy
                ? "the probe answered" + probe_said
                : "no probe is configured, so there is nothing to check";
      return false;
  }
  return false;
}

/// "a, b and c".
std::string and_list(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i)
    out += (i == 0 ? "" : i + 1 == items.size() ? " and " : ", ") + items[i];
  return out;
}

/// Starts at the rung that cured the device the last times, when it is above `start` and can be
/// used now: the rungs below it are passed over as those above a failed method are, and every
/// rule that made the ladder (policy, collateral, over-current, authorization) still holds for
/// it and above, as does the budget. Returns the new start.
std::size_t remembered_start(const PlannerInput& in, const CureMemory& memory, Decision& d,
                             std::size_t start) {
  if (memory.lapsed && !memory.cure) {
    d.reasons.push_back(std::string(to_string(memory.lapsed->method)) +
                        " had cured this device before but failed " + ago(memory.lapsed->at, in.now) +
                        ": no longer remembered");
  }
  if (!memory.cure) return start;
  const RememberedCure& cure = *memory.cure;
  const std::size_t at = static_cast<std::size_t>(
      std::find(in.policy.methods.begin(), in.policy.methods.end(), cure.method) - in.policy.methods.begin());
  const std::string name(to_string(cure.method));
  std::vector<std::string> times, below;
  for (EpochMs t : cure.cured_at) times.push_back(format_utc(t));
  for (Method m : cure.failed_below) below.push_back(std::string(to_string(m)));
  const std::string cured =
      "it cured this device at " + and_list(times) + "; before it, " + and_list(below) + " had failed";
  if (at <= start) return start;  // the ladder starts there or above it anyway
  if (!d.ladder[at].usable) {
    d.reasons.push_back("not starting at " + name + ", although " + cured + ": it cannot be used now (" +
                        d.ladder[at].why + ")");
    return start;
  }
  d.starts_at_remembered = true;
  d.reasons.push_back("start at " + name + ": " + cured +
                      " (if it fails, the next recovery starts from the bottom again)");
  for (std::size_t i = start; i < at; ++i) {
    if (d.ladder[i].usable) d.ladder[i].why = "skipped: " + name + " cured this device the last time";
    d.ladder[i].usable = false;
  }
  return at;
}

/// Index in the policy's ladder where this recovery starts, with the reason when it is not 0.
std::size_t ladder_start(const PlannerInput& in, std::vector<std::string>& reasons) {
  const auto& methods = in.policy.methods;
  const auto& h = in.history;
  EpochMs since = in.now - in.policy.window.count();
  auto index_of = [&methods](Method m) {
    return static_cast<std::size_t>(std::find(methods.begin(), methods.end(), m) - methods.begin());
  };
  std::size_t start = 0;
  // Methods that failed within the window, since the last recovery, need not be tried again.
  auto recovered = last_recovery(h);
  for (const auto& a : h.attempts) {
    if (a.at < since || a.recovered || (recovered && a.at < *recovered)) continue;
    std::size_t i = index_of(a.method);
    if (i < methods.size() && i + 1 > start) {
      start = i + 1;
      reasons.push_back(std::string(to_string(a.method)) + " already failed " + ago(a.at, in.now) +
                        ": start above it");
    }
  }
  // A recovery that did not last: the service failed again after it; climb above that method.
  const bool service_start = in.trigger == Trigger::ServiceStart || in.trigger == Trigger::ServiceStale;
  if (recovered && service_start) {
    const Attempt* last_ok = nullptr;
    for (const auto& a : h.attempts)
      if (a.recovered) last_ok = &a;
    bool failed_since = std::any_of(h.services.begin(), h.services.end(),
                                    [&](const ServiceEnd& s) { return s.failed && s.at > last_ok->at; });
    std::size_t i = index_of(last_ok->method);
    if (failed_since && last_ok->at >= since && i < methods.size() && i + 1 > start) {
      start = i + 1;
      reasons.push_back("the service failed again after " + std::string(to_string(last_ok->method)) +
                        " recovered the device " + ago(last_ok->at, in.now) + ": climb above it");
    }
  }
  // A service that keeps failing has already been through its driver's own USB reset.
  if (start == 0 && (in.trigger == Trigger::ServiceStart || in.trigger == Trigger::ServiceStale) &&
      !methods.empty() && methods[0] == Method::Device) {
    auto failures = std::count_if(h.services.begin(), h.services.end(), [&](const ServiceEnd& s) {
      return s.failed && s.at >= since && (!recovered || s.at > *recovered);
    });
    if (failures >= 2) {
      start = 1;
      reasons.push_back("the service failed " + std::to_string(failures) +
                        " times in a row; its driver's own USB reset did not help, so skip device");
    }
  }
  return start;
}

}  // namespace

std::string_view to_string(Trigger t) {
  return kTriggerNames.at(static_cast<std::size_t>(t));
}

std::optional<Trigger> trigger_from_string(std::string_view s) {
  for (std::size_t i = 0; i < kTriggerNames.size(); ++i)
    if (kTriggerNames[i] == s) return static_cast<Trigger>(i);
  return std::nullopt;
}

std::string_view to_string(Decision::Verdict v) {
  switch (v) {
    case Decision::Verdict::Leave:
      return "leave";
    case Decision::Verdict::Recover:
      return "recover";
    case Decision::Verdict::Refuse:
      return "refuse";
  }
  return "";
}

Decision decide(const PlannerInput& in) {
  Decision d;
  const Policy& p = in.policy;
  EpochMs since = in.now - p.window.count();

  // Budget: recoveries attempted within the window.
  std::vector<EpochMs> recent;
  for (const auto& a : in.history.attempts)
    if (a.at > since && a.at <= in.now) recent.push_back(a.at);
  d.budget_left = recent.size() >= p.max_resets ? 0 : p.max_resets - static_cast<unsigned>(recent.size());

  // Said whatever the verdict, so `explain --json` shows what the history remembers.
  const CureMemory memory = remembered_cure(in.history, p.methods, in.now);
  d.remembered = memory.cure;

  // The whole ladder is always described, so `explain` shows what each method would do.
  for (Method m : p.methods) {
    Rung r;
    r.method = m;
    auto plan = plan_method(in.snapshot, m, in.plan_options);
    if (!plan) {
      r.why = plan.error().reason.empty() ? plan.error().message() : plan.error().reason;
    } else if (auto refused = refuse_collateral(*plan, p.allow_collateral); !refused) {
      std::string names;
      for (const auto& c : plan->collateral) names += (names.empty() ? "" : ", ") + describe_device(c);
      for (const auto& u : plan->port_users) names += (names.empty() ? "" : ", ") + u;
      r.why = "would also disturb " + names + "; the policy does not allow collateral";
      if (std::any_of(plan->collateral.begin(), plan->collateral.end(),
                      [](const UsbDevice& c) { return !c.mounts.empty(); }))
        r.why += " (a mounted filesystem may lose data)";
    } else {
      r.usable = true;
      const std::size_t devices = plan->collateral.size();
      const std::size_t ports = plan->port_users.size();
      if (devices == 0 && ports == 0) {
        r.why = "disturbs no other device";
      } else {
        r.why = "disturbs " + std::to_string(devices) + " other device(s)" +
                (ports ? " and " + std::to_string(ports) + " port(s) in use" : "") +
                "; the policy allows collateral";
      }
      r.plan = std::move(*plan);
    }
    d.ladder.push_back(std::move(r));
  }

  // A dead controller answers nothing below it: only binding it to its driver again reaches the
  // device, and that re-enumerates every device on it, so the policy must allow collateral even
  // when nothing else is left there to disturb.
  if (in.trigger == Trigger::ControllerDied) {
    for (auto& r : d.ladder) {
      if (r.method == Method::Controller && !r.usable) continue;
      if (r.method == Method::Controller && p.allow_collateral) continue;
      r.usable = false;
      r.why = r.method == Method::Controller
                  ? "a rebind re-enumerates every device on host controller " + in.snapshot.controller.name +
                        "; the policy does not allow collateral"
                  : "host controller " + in.snapshot.controller.name +
                        " is dead: only binding it to its driver again reaches the device";
      r.plan = Plan{};
    }
  }

  // A port that reported an over-current within the window is not powered on again: port-power,
  // a hub reset and a controller rebind all end with power on the port.
  std::optional<EpochMs> overcurrent;
  for (const auto& o : in.history.overcurrents)
    if (o.at > since && o.at <= in.now) overcurrent = o.at;
  if (overcurrent) {
    for (auto& r : d.ladder) {
      if (r.method != Method::PortPower && r.method != Method::Hub && r.method != Method::Controller)
        continue;
      r.usable = false;
      r.why = "port " + in.snapshot.device.port_path + " reported an over-current " +
              ago(*overcurrent, in.now) + "; powering it on again could harm the device or the hub";
      r.plan = Plan{};
    }
  }

  std::string why;
  if (!in.snapshot.device.authorized) {
    // Not ours to override: not probed, not recovered, whatever the trigger (plan_method refused
    // every rung above with the same reason).
    d.verdict = Decision::Verdict::Leave;
    d.summary = "leave it: " + blocked_by_authorization(in.snapshot.device);
    d.reasons.push_back(blocked_by_authorization(in.snapshot.device));
    return d;
  }
  if (!needs_recovery(in, why)) {
    d.verdict = Decision::Verdict::Leave;
    d.summary = "leave it: " + why;
    d.reasons.push_back(why);
    for (auto& r : d.ladder) r.usable = false;
    return d;
  }
  d.reasons.push_back(why);

  // Rate limits.
  if (p.max_resets == 0) {
    d.verdict = Decision::Verdict::Refuse;
    d.summary = "refuse: max_resets is 0, recovery is off for this device";
  } else if (d.budget_left == 0) {
    EpochMs next = *std::min_element(recent.begin(), recent.end()) + p.window.count();
    d.verdict = Decision::Verdict::Refuse;
    d.next_allowed = next;
    d.summary = "refuse: " + std::to_string(recent.size()) + " recoveries in the last " +
                format_duration(p.window) + " (max_resets = " + std::to_string(p.max_resets) +
                "); next allowed " + when(next, in.now);
  } else if (!in.history.attempts.empty() && in.now - in.history.attempts.back().at < p.cooldown.count()) {
    EpochMs next = in.history.attempts.back().at + p.cooldown.count();
    d.verdict = Decision::Verdict::Refuse;
    d.next_allowed = next;
    d.summary = "refuse: the last recovery was " + ago(in.history.attempts.back().at, in.now) +
                ", inside the cooldown of " + format_duration(p.cooldown) + "; next allowed " +
                when(next, in.now);
  }
  if (d.verdict == Decision::Verdict::Refuse) {
    d.reasons.push_back(d.summary.substr(std::string("refuse: ").size()));
    for (auto& r : d.ladder) r.usable = false;
    return d;
  }

  // Where to start, then how many rungs the budget allows.
  std::size_t start = remembered_start(in, memory, d, ladder_start(in, d.reasons));
  unsigned allowed = d.budget_left;
  for (std::size_t i = 0; i < d.ladder.size(); ++i) {
    Rung& r = d.ladder[i];
    if (i < start) {
      if (r.usable) r.why = "skipped: it already failed recently";
      r.usable = false;
    } else if (r.usable && allowed == 0) {
      r.usable = false;
      r.why = "over the budget of " + std::to_string(p.max_resets) + " per " + format_duration(p.window);
    } else if (r.usable) {
      --allowed;
    }
  }
  bool any = std::any_of(d.ladder.begin(), d.ladder.end(), [](const Rung& r) { return r.usable; });
  if (!any) {
    d.verdict = Decision::Verdict::Refuse;
    d.summary = start >= d.ladder.size() ? "refuse: every method of the policy already failed in the last " +
                                               format_duration(p.window) + "; the device needs a person"
                                         : "refuse: no method of the policy can be used on this device";
    d.reasons.push_back(d.summary.substr(std::string("refuse: ").size()));
    // Say why each method left could not be used (collateral, not applicable, budget), so the
    // journal line alone tells a person what stands in the way.
    for (std::size_t i = start; i < d.ladder.size(); ++i)
      d.reasons.push_back(std::string(to_string(d.ladder[i].method)) + ": " + d.ladder[i].why);
    return d;
  }
  d.verdict = Decision::Verdict::Recover;
  auto first = std::find_if(d.ladder.begin(), d.ladder.end(), [](const Rung& r) { return r.usable; });
  d.summary = "recover: " + why + "; start with " + std::string(to_string(first->method));
  return d;
}

}  // namespace usbrecover
