// SPDX-License-Identifier: MIT
// `usbrecover handle --trigger T ...`: what usbrecover@.service and the services' drop-ins run.
// Resolve the device, take its lock, read its policy and history, probe, decide, climb the
// ladder until a method is verified, record everything, log one line per decision and outcome.

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <thread>

#include "act/effects_linux.hpp"
#include "act/interrupt.hpp"
#include "act/recovery.hpp"
#include "commands/entry.hpp"
#include "commands/handle_stale.hpp"
#include "decide/state_store.hpp"
#include "snapshot/probe.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"
#include "util/text.hpp"

namespace usbrecover {

namespace {

using Clock = std::chrono::steady_clock;

void handle_usage(std::ostream& os) {
  os << "usage: usbrecover handle --trigger add --syspath PATH\n"
        "       usbrecover handle --trigger service-start|service-stop [--unit UNIT]\n"
        "                         (--match SELECTOR [--serial S] | --nut-instance NAME [--ups-conf PATH])\n"
        "       usbrecover handle --trigger service-stale --unit UNIT --nut-instance NAME [--reason TEXT]\n"
        "       usbrecover handle --trigger port-failed --port PORTPATH\n"
        "       usbrecover handle --trigger controller-died --controller NAME --port PORTPATH\n"
        "                         --property USBRECOVER_KEY=VALUE...\n"
        "       options: [--timeout DUR] [--metrics FILE] [--dry-run] [--json]\n"
        "\n"
        "Run by usbrecover@.service (add), by the drop-ins of services that use a table device\n"
        "(service-start before the service opens it, service-stop after it ends) and by\n"
        "usbrecover watch (service-stale: a NUT driver whose data stays stale or that hangs is\n"
        "recorded as failed and restarted, so its start recovers the device; port-failed: a port a\n"
        "table entry covers on which nothing could be enumerated; controller-died: the host\n"
        "controller a table device was on died, and the watcher passes the device's port and the\n"
        "entry's properties as udev gave them, for a controller rebind). Probes the device, decides,\n"
        "recovers it if needed and allowed, and verifies it came back. --dry-run decides and prints\n"
        "the decision without acting or recording anything.\n"
        "\n"
        "Whatever a run that died left off is put back first. One run per port at a time.\n"
        "\n"
        "Exit status: 0 healthy or recovered, or nothing to do (for add, also a device already gone),\n"
        "1 not recovered, 65 ups.conf unreadable or without the section, 69 no such device,\n"
        "70 internal error, 73 refused (rate limit, collateral, top of the ladder: the device\n"
        "needs a person, and the unit shows as failed), 75 another run holds the device.\n";
}

/// Everything logged about one device carries these fields.
std::vector<std::pair<std::string, std::string>> fields(const DeviceContext& dc, Trigger t) {
  const UsbDevice& d = dc.snapshot.device;
  return {{"USBRECOVER_DEVICE", d.sysname},
          {"USBRECOVER_ID", hex4(d.vendor) + ":" + hex4(d.product)},
          {"USBRECOVER_TRIGGER", std::string(to_string(t))},
          {"USBRECOVER_ENTRY", dc.table ? dc.table->name : ""}};
}

/// Whether a device enumerated on a port entry's port since the watcher saw it fail, one the
/// entry expects (its ids, when it has any).
bool expected_device(const UsbDevice& d, const std::vector<UsbId>& ids) {
  return ids.empty() || std::any_of(ids.begin(), ids.end(), [&](const UsbId& id) {
           return id.vendor == d.vendor && (!id.product || *id.product == d.product);
         });
}

/// Waits for the device's lock until `deadline` (service-start: the service should start after
/// a recovery that is already under way, not beside it).
Result<DeviceLock> lock_until(const StateStore& store, const std::string& key, Clock::time_point deadline) {
  while (true) {
    auto lock = store.lock(key, false);
    if (lock || lock.error().errnum != EWOULDBLOCK || Clock::now() >= deadline) return lock;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

/// Keeps `hub` resumed for the run, so that it stays resumed while a port of its is read and
/// recovered (Effects::hold_resumed says why). Without the hold the run goes on, no worse than
/// before; `report` says so.
template <typename Report>
void keep_resumed(Effects& fx, const SnapshotReader& reader, const UsbDevice& hub, Report report) {
  if (auto st = fx.hold_resumed(reader.usbfs_node(hub)); !st)
    report("handle: cannot keep hub " + hub.sysname + " resumed (" + st.error().message() +
           "): every time it wakes, the kernel enumerates the port again");
}

}  // namespace

int cmd_handle(const Args& args, Context& ctx) {
  EntryOptions o;
  if (auto bad = parse_entry_options(args, o, false); !bad.empty()) {
    ctx.err << "usbrecover: handle: " << bad << "\n";
    handle_usage(ctx.err);
    return kExitUsage;
  }
  if (o.help) {
    handle_usage(ctx.out);
    return kExitOk;
  }
  if (!o.trigger || *o.trigger == Trigger::Manual) {
    ctx.err << "usbrecover: handle: '--trigger' must be add, service-start, service-stop, service-stale, "
               "port-failed or controller-died\n";
    return kExitUsage;
  }
  const Trigger trigger = *o.trigger;
  if (trigger == Trigger::Add && !o.target.syspath) {
    ctx.err << "usbrecover: handle: '--trigger add' goes with '--syspath'\n";
    return kExitUsage;
  }
  const bool dead_controller = trigger == Trigger::ControllerDied;
  if ((trigger == Trigger::PortFailed || dead_controller) != o.port.has_value()) {
    ctx.err
        << "usbrecover: handle: '--port' goes with '--trigger port-failed' or 'controller-died', and only "
           "with them\n";
    return kExitUsage;
  }
  if (dead_controller != o.controller.has_value() || dead_controller == o.properties.empty()) {
    ctx.err << "usbrecover: handle: '--controller' and '--property' go with '--trigger controller-died', "
               "and only with it\n";
    return kExitUsage;
  }
  if (trigger == Trigger::ServiceStale && (!o.target.nut_instance || o.unit.empty())) {
    ctx.err << "usbrecover: handle: '--trigger service-stale' goes with '--nut-instance' and '--unit'\n";
    return kExitUsage;
  }
  const auto deadline = Clock::now() + o.timeout;
  Logger log(ctx.err, Logger::stderr_is_journal());
  auto info = [&](Priority p, const char* id, std::string msg,
                  std::vector<std::pair<std::string, std::string>> f = {}) {
    log.log(LogLine{p, id, terminal_safe(msg), std::move(f)});
  };

  // Whatever a run that died left off (a port powered down, a driver unbound) comes back first,
  // so a device lost that way reappears whichever entry point runs next.
  for (const auto& line : repair_left_behind(ctx.sysfs_root, ctx.dev_root, ctx.state_dir))
    info(Priority::Warning, nullptr, "handle: " + line);

  // The device the trigger is about, or for port-failed the port on which nothing enumerated.
  std::optional<SnapshotReader> port_reader;
  std::optional<DeviceContext> port_context;
  SnapshotReader* reader_ptr = nullptr;
  DeviceContext* dc = nullptr;
  std::variant<PreparedDevice, int> prepared = 0;
  // For port-failed: the port's hub (and its USB3 peer) kept resumed from before the first read
  // of the port until the run ends, whatever it ends with; not for a dry run, which holds
  // nothing (each wake of a hub with nothing enumerated below it starts another round).
  LinuxEffects awake(ctx.sysfs_root, ctx.dev_root);
  if (trigger == Trigger::PortFailed || dead_controller) {
    auto r = SnapshotReader::open(reader_options(ctx));
    if (!r) {
      info(Priority::Err, nullptr, "handle: " + r.error().message());
      return kExitSoftware;
    }
    port_reader = std::move(*r);
  }
  if (trigger == Trigger::PortFailed) {
    auto note = [&](const std::string& msg) { info(Priority::Info, nullptr, msg); };
    if (auto hub_port = hub_of_port_path(*o.port)) {
      auto hub = port_reader->device(ctx.sysfs_root + "/bus/usb/devices/" + hub_port->first);
      if (hub && !o.dry_run) keep_resumed(awake, *port_reader, *hub, note);
    }
    auto pc = read_port_context(*port_reader, ctx.sysfs_root, *o.port);
    if (!pc) {
      info(Priority::Err, nullptr, "handle: port " + terminal_safe(*o.port) + ": " + pc.error().message());
      return kExitNotFound;
    }
    port_context = std::move(*pc);
    if (port_context->snapshot.peer_hub && !o.dry_run)
      keep_resumed(awake, *port_reader, port_context->snapshot.peer_hub->device, note);
    reader_ptr = &*port_reader;
    dc = &*port_context;
  } else if (dead_controller) {
    auto table = policy_from_properties(o.properties);
    if (!table) {
      info(Priority::Err, nullptr, "handle: --property: " + table.error().message());
      return kExitData;
    }
    auto pc = read_dead_controller_context(*port_reader, *o.port, *o.controller, std::move(*table));
    if (!pc) {
      info(Priority::Err, nullptr, "handle: port " + terminal_safe(*o.port) + ": " + pc.error().message());
      return kExitNotFound;
    }
    port_context = std::move(*pc);
    reader_ptr = &*port_reader;
    dc = &*port_context;
  } else {
    prepared = prepare_device(o, ctx, trigger == Trigger::Add, [&](Priority p, const std::string& msg) {
      info(p, nullptr, "handle: " + msg);
    });
    if (const int* rc = std::get_if<int>(&prepared)) return *rc;
    reader_ptr = &std::get<PreparedDevice>(prepared).reader;
    dc = &std::get<PreparedDevice>(prepared).context;
  }
  SnapshotReader& reader = *reader_ptr;
  auto not_in_table = [&]() {
    if (trigger == Trigger::PortFailed) {
      info(Priority::Info, nullptr,
           "handle: nothing to do: no table entry covers port " + dc->snapshot.device.port_path +
               (dc->policy_error.empty() ? "" : ": " + dc->policy_error));
      return kExitOk;
    }
    info(Priority::Notice, nullptr,
         "handle: " + who(*dc) + " is not in the usbrecover table" +
             (dc->policy_error.empty()
                  ? " (regenerate the rules with usbrecover-gen and run 'udevadm trigger')"
                  : ": " + dc->policy_error) +
             "; nothing to do");
    return kExitOk;
  };
  if (!dc->table) return not_in_table();
  StateStore store(ctx.state_dir);

  // One run per connector at a time. `add` leaves the device to a run already under way (it is
  // often that run's own re-enumeration); a service start waits for it, then decides on the
  // device as it is now, not as it was before that run.
  std::optional<DeviceLock> lock;
  if (!o.dry_run) {
    auto l = trigger == Trigger::Add ? store.lock(dc->key, false) : lock_until(store, dc->key, deadline);
    if (!l) {
      bool busy = l.error().errnum == EWOULDBLOCK;
      info(busy ? Priority::Info : Priority::Err, nullptr,
           "handle: " + who(*dc) + ": " + l.error().message());
      return busy ? (trigger == Trigger::Add ? kExitOk : kExitTempFail) : kExitSoftware;
    }
    lock = std::move(*l);
    // The kernel (or a run this one waited for, or a person) may have enumerated a device there
    // since, or bound a dead controller again.
    if (trigger == Trigger::PortFailed || dead_controller) {
      if (auto there = reader.device(dc->snapshot.device.syspath);
          there && expected_device(*there, dc->table->ids)) {
        info(Priority::Info, nullptr,
             "handle: nothing to do: " + describe_device(*there) + " is on port " +
                 dc->snapshot.device.port_path + " again");
        return kExitOk;
      }
    }
    if (dead_controller) {
      if (!controller_dead(reader, ctx.sysfs_root, dc->snapshot.controller)) {
        info(Priority::Info, nullptr,
             "handle: nothing to do: host controller " + dc->snapshot.controller.name + " answers again");
        return kExitOk;
      }
      auto table = *dc->table;
      auto now = read_dead_controller_context(reader, *o.port, *o.controller, std::move(table));
      if (!now) {
        info(Priority::Warning, nullptr, "handle: port " + *o.port + ": " + now.error().message());
        return kExitNotFound;
      }
      *dc = std::move(*now);
    } else if (trigger == Trigger::PortFailed) {
      auto now = read_port_context(reader, ctx.sysfs_root, *o.port);
      if (!now) {
        info(Priority::Warning, nullptr, "handle: port " + *o.port + ": " + now.error().message());
        return kExitNotFound;
      }
      *dc = std::move(*now);
    } else {
      auto now = read_device_context(reader, dc->snapshot.device, dc->snapshot.own_tty, o.target.ups_conf);
      if (!now) {
        const bool gone_ok = trigger == Trigger::Add;
        info(gone_ok ? Priority::Info : Priority::Warning, nullptr, "handle: " + now.error().message());
        return gone_ok ? kExitOk : kExitNotFound;
      }
      *dc = std::move(*now);
    }
    if (!dc->table) return not_in_table();
  }
  const Policy& policy = dc->table->policy;
  auto loaded = store.load(dc->key);
  History history;
  if (loaded) {
    history = std::move(*loaded);
  } else {
    info(Priority::Warning, nullptr,
         "handle: " + loaded.error().message() + ", ignoring it and starting afresh");
  }

  if (trigger == Trigger::ServiceStop) {
    auto env = [](const char* k) { return std::string(std::getenv(k) ? std::getenv(k) : ""); };
    ServiceEnd end{epoch_now(),
                   o.unit.empty() ? "the service" : o.unit,
                   false,
                   env("SERVICE_RESULT"),
                   env("EXIT_CODE"),
                   env("EXIT_STATUS")};
    end.failed = !end.result.empty() && end.result != "success";
    if (o.dry_run) return kExitOk;
    if (const ServiceEnd* verdict = watcher_verdict(history, end.unit, end.at); verdict && !end.failed) {
      // The stop the watcher's restart made: its verdict (stale, hung) stands for the next start.
      info(Priority::Info, nullptr,
           who(*dc) + ": " + end.unit + " stopped for usbrecover watch's restart (" + verdict->exit_status +
               ")",
           fields(*dc, trigger));
      return kExitOk;
    }
    history.services.push_back(end);
    if (auto s = store.save(dc->key, history); !s)
      info(Priority::Err, nullptr, "handle: " + s.error().message());
    info(end.failed ? Priority::Notice : Priority::Info, nullptr,
         who(*dc) + ": " + end.unit + " stopped: " + (end.result.empty() ? "result unknown" : end.result) +
             (end.exit_status.empty() ? "" : ", status " + end.exit_status) +
             (end.failed ? "; the next start checks the device first" : ""),
         fields(*dc, trigger));
    return kExitOk;
  }

  if (trigger == Trigger::ServiceStale) return restart_stale_service(o, ctx, *dc, history, store, lock, log);

  // From the probe on, a signal only raises a flag: the megatec probe detaches the interface's
  // driver for its query and must attach it again, and a recovery must undo what it turned off.
  // A driver the probe detaches is journaled as an intent first, for a run killed outright.
  InterruptGuard guard;
  ProbeIntents probe_intents(ctx.sysfs_root, ctx.state_dir);
  const ProbeOptions probe_options{.journal = &probe_intents};
  // A device its authorization policy blocks is not ours: not even probed (decide() says why).
  ProbeResult probe = !dc->snapshot.device_present
                          ? ProbeResult{ProbeResult::State::NotConfigured, "nothing enumerated"}
                      : dc->snapshot.device.authorized
                          ? run_probe(policy.probe, dc->snapshot.device, probe_options)
                          : ProbeResult{ProbeResult::State::NotConfigured, "not probed: not authorized"};
  PlanOptions plan_options{.sysfs_root = ctx.sysfs_root, .off_time = policy.off_time};
  Decision d = decide(PlannerInput{dc->snapshot, policy, history, trigger, probe, epoch_now(), plan_options});
  std::string reasons;
  for (const auto& r : d.reasons) reasons += (reasons.empty() ? "" : "; ") + r;
  auto f = fields(*dc, trigger);
  f.emplace_back("USBRECOVER_VERDICT", std::string(to_string(d.verdict)));
  if (o.dry_run) {
    if (o.json)
      decision_json(ctx.out, *dc, policy, trigger, probe, d);
    else
      decision_text(ctx.out, *dc, policy, trigger, probe, d);
    return d.verdict == Decision::Verdict::Refuse ? kExitRefused : kExitOk;
  }
  info(d.verdict == Decision::Verdict::Leave ? Priority::Info : Priority::Notice, message_id::kDecision,
       who(*dc) + ": " + d.summary + (d.reasons.size() > 1 ? " [" + reasons + "]" : ""), f);
  if (d.verdict == Decision::Verdict::Leave) {
    if (history.failure_streak) {
      history.failure_streak = 0;
      history.last_failure.clear();
      (void)store.save(dc->key, history);
    }
    return kExitOk;
  }

  auto log_failure = [&](const std::string& what, const char* id) {
    // Thin out identical failures in a row, as a device that stays wedged repeats them.
    history.failure_streak = what == history.last_failure ? history.failure_streak + 1 : 1;
    history.last_failure = what;
    if (log_repeat(history.failure_streak))
      info(Priority::Warning, id, who(*dc) + ": " + what + (history.failure_streak == 10 ? kRepeatNote : ""),
           f);
  };
  if (d.verdict == Decision::Verdict::Refuse) {
    log_failure(d.summary, message_id::kRefused);
    (void)store.save(dc->key, history);
    return kExitRefused;
  }

  StopCheck stop = [&]() -> std::optional<std::string> {
    if (int sig = guard.caught()) return std::string("interrupted by ") + sigabbrev_np(sig);
    if (Clock::now() >= deadline) return "timed out after " + format_duration(o.timeout);
    return std::nullopt;
  };
  RecoveryRoots roots{ctx.sysfs_root, ctx.dev_root, ctx.state_dir, ctx.udev_control};
  Snapshot snap = dc->snapshot;
  std::string tried;
  for (const Rung& rung : d.ladder) {
    if (!rung.usable) continue;
    // Plan again on the device as it is now: an earlier rung may have given it a new number.
    auto plan = plan_method(snap, rung.method, plan_options);
    if (plan) {
      if (auto allowed = refuse_collateral(*plan, policy.allow_collateral); !allowed) plan = allowed.error();
    }
    if (!plan) {
      // Usable when decided, not on the device as it is now: say why it was passed over.
      tried += (tried.empty() ? "" : ", ") + std::string(to_string(rung.method)) +
               " (passed over: " + plan.error().message() + ")";
      continue;
    }
    Attempt attempt{epoch_now(), rung.method, false, ""};
    RecoveryOutcome out = carry_out(snap, *plan, reader, roots, deadline, stop, dc->table->ids);
    for (const auto& n : out.run.not_held) info(Priority::Warning, nullptr, "handle: " + n);
    if (out.verified()) {
      UsbDevice after = *out.after;
      ProbeResult again = run_probe(policy.probe, after, probe_options);
      attempt.recovered = again.state != ProbeResult::State::Failed;
      attempt.detail = attempt.recovered ? "verified" + (again.detail.empty() ? "" : ", " + again.detail)
                                         : "back but the probe failed: " + again.detail;
    } else {
      attempt.detail = out.error ? out.error->message() : "not back";
    }
    if (std::string note = events_note(out); !note.empty() && plan->reenumerates)
      attempt.detail += " (" + note + ")";
    history.attempts.push_back(attempt);
    record_metric(ctx.state_dir, dc->key, dc->snapshot.device.port_path,
                  dc->snapshot.device_present
                      ? hex4(dc->snapshot.device.vendor) + ":" + hex4(dc->snapshot.device.product)
                      : "port",
                  rung.method, attempt.recovered);
    tried += (tried.empty() ? "" : ", ") + std::string(to_string(rung.method)) + " (" + attempt.detail + ")";
    if (attempt.recovered) {
      history.failure_streak = 0;
      history.last_failure.clear();
      (void)store.save(dc->key, history);
      auto rf = f;
      rf.emplace_back("USBRECOVER_METHOD", std::string(to_string(rung.method)));
      info(Priority::Notice, message_id::kRecovered,
           who(*dc) + ": recovered with " + std::string(to_string(rung.method)) + ": " + attempt.detail, rf);
      if (!o.metrics.empty()) (void)write_metrics_textfile(ctx.state_dir, o.metrics);
      return kExitOk;
    }
    if (auto s = store.save(dc->key, history); !s)
      info(Priority::Err, nullptr, "handle: " + s.error().message());
    if (out.left_unauthorized) {
      // The bus's policy keeps the device from being used: not ours to override, and no further
      // method would change that.
      info(Priority::Notice, message_id::kFailed,
           who(*dc) + ": " + std::string(to_string(rung.method)) + ": " + attempt.detail +
               "; no further method",
           f);
      if (!o.metrics.empty()) (void)write_metrics_textfile(ctx.state_dir, o.metrics);
      return kExitOk;
    }
    // Climb no further when something could not be turned back on (its intent is left for
    // repair), when asked to stop, or when the device is gone; otherwise plan the next rung on
    // the device as it is now (an earlier rung may have given it a new number).
    if (!out.run.left_off.empty() || stop()) break;
    // A port recovery goes on with the device that enumerated meanwhile, or with the port.
    auto fresh = reader.device(snap.device.syspath)
                     ? reader.snapshot(snap.device.syspath, scope_for(policy))
                     : (snap.hub ? reader.port_snapshot(snap.hub->device.syspath,
                                                        snap.port ? snap.port->number : 0, scope_for(policy))
                                 : reader.snapshot(snap.device.syspath, scope_for(policy)));
    if (!fresh) {
      tried += "; then " + fresh.error().message();
      break;
    }
    snap = std::move(*fresh);
  }
  log_failure("could not recover: tried " + (tried.empty() ? std::string("nothing") : tried),
              message_id::kFailed);
  (void)store.save(dc->key, history);
  if (!o.metrics.empty()) (void)write_metrics_textfile(ctx.state_dir, o.metrics);
  return kExitFailed;
}

}  // namespace usbrecover
