// SPDX-License-Identifier: MIT
// `usbrecover reset SELECTOR --method M`: one method on one device, then verification.
// snapshot -> plan -> (dry run: print) -> execute with intents -> verify with udev.

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ostream>

#include "act/executor.hpp"
#include "act/interrupt.hpp"
#include "act/methods.hpp"
#include "act/recovery.hpp"
#include "commands/commands.hpp"
#include "commands/target.hpp"
#include "decide/history.hpp"
#include "decide/state_store.hpp"
#include "snapshot/selector.hpp"
#include "snapshot/snapshot_reader.hpp"
#include "util/json.hpp"
#include "util/timings.hpp"

namespace usbrecover {

namespace {

using Clock = std::chrono::steady_clock;

constexpr Millis kDefaultTimeout = std::chrono::seconds(30);

struct ResetArgs {
  std::string selector;
  std::optional<std::string> serial;
  std::optional<Method> method;
  bool dry_run = false;
  bool allow_collateral = false;
  bool json = false;
  bool timings = false;  ///< --timings: where the time went, on stderr
  Millis timeout = kDefaultTimeout;
  std::optional<Millis> off_time;  ///< --off-time: how long port-power keeps the port off
};

void reset_usage(std::ostream& os) {
  os << "usage: usbrecover reset SELECTOR --method M [--dry-run] [--allow-collateral] [--timeout DUR]\n"
        "                        [--off-time DUR] [--json] [--serial S] [--timings]\n\n"
        "SELECTOR is VVVV:PPPP, BBB/DDD, a port path (1-1.2), a sysfs path or a product string.\n"
        "M is one of: "
     << method_names()
     << ".\n--dry-run prints the steps and every other device the method would disturb.\n"
        "--off-time: how long port-power keeps the port off (default: the hub's power-on-to-good\n"
        "time, at least 100ms).\n"
        "--timings prints on stderr where the time went: start-up, repair, selector, snapshot,\n"
        "lock, intents, the kernel, off time, verification.\n"
        "Exit: 0 recovered and verified, 1 not back healthy, 64 usage, 69 not found,\n"
        "73 refused, 77 permission denied.\n";
}

// Returns the error text, empty on success; `help` is set for --help.
std::string parse_args(const Args& args, ResetArgs& out, bool& help) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    std::optional<std::string> inline_value;
    if (auto eq = a.find('='); a.starts_with("--") && eq != std::string::npos) {
      inline_value = a.substr(eq + 1);
      a = a.substr(0, eq);
    }
    auto value = [&]() -> std::optional<std::string> {
      if (inline_value) return inline_value;
      if (i + 1 < args.size()) return args[++i];
      return std::nullopt;
    };
    if (a == "--help" || a == "-h") {
      help = true;
    } else if (a == "--dry-run" || a == "--allow-collateral" || a == "--json" || a == "--timings") {
      if (inline_value) return "option '" + a + "' takes no value";
      (a == "--dry-run"   ? out.dry_run
       : a == "--json"    ? out.json
       : a == "--timings" ? out.timings
                          : out.allow_collateral) = true;
    } else if (a == "--method") {
      auto v = value();
      if (!v) return "option '--method' needs a value";
      out.method = method_from_string(*v);
      if (!out.method) return "unknown method '" + *v + "' (expected one of: " + method_names() + ")";
    } else if (a == "--timeout") {
      auto v = value();
      auto d = v ? parse_duration(*v) : std::nullopt;
      if (!d || d->count() == 0) return "option '--timeout' needs a duration such as 30s";
      out.timeout = *d;
    } else if (a == "--off-time") {
      auto v = value();
      auto d = v ? parse_duration(*v) : std::nullopt;
      if (!d || *d > Millis(60'000)) return "option '--off-time' needs a duration of at most 1m, such as 2s";
      out.off_time = *d;
    } else if (a == "--serial") {
      auto v = value();
      if (!v) return "option '--serial' needs a value";
      out.serial = *v;
    } else if (a.starts_with("-") && a.size() > 1) {
      return "unknown option '" + a + "'";
    } else if (out.selector.empty()) {
      out.selector = a;
    } else {
      return "unexpected argument '" + a + "'";
    }
  }
  if (help) return {};
  if (out.selector.empty()) return "missing SELECTOR";
  if (!out.method) return "missing --method";
  return {};
}

SnapshotScope snapshot_scope(Method m) {
  switch (m) {
    case Method::Device:
    case Method::WarmReset:
    case Method::Rebind:
    case Method::Authorize:
      return SnapshotScope::Device;
    case Method::PortPower:
    case Method::Hub:
      return SnapshotScope::Hub;
    case Method::Controller:
      return SnapshotScope::Controller;
  }
  return SnapshotScope::Controller;
}

bool permission(const Error& e) {
  return e.errnum == EACCES || e.errnum == EPERM;
}

std::string busdev(const UsbDevice& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%03u/%03u", d.busnum % 1000, d.devnum % 1000);
  return buf;
}

void device_json(JsonWriter& j, const UsbDevice& d) {
  j.begin_object();
  j.field("vendor", hex4(d.vendor)).field("product", hex4(d.product));
  j.field("port_path", d.port_path).field("busnum", d.busnum).field("devnum", d.devnum);
  j.field("serial", d.serial).field("syspath", d.syspath);
  j.end_object();
}

void actions_json(JsonWriter& j, std::string_view key, const std::vector<Action>& actions) {
  j.key(key).begin_array();
  for (const Action& a : actions) j.value(to_string(a));
  j.end_array();
}

// What `reset` found out, for both output forms.
struct Outcome {
  const UsbDevice* before = nullptr;
  std::optional<UsbDevice> after;
  Method method = Method::Device;
  const Plan* plan = nullptr;
  RunReport run;
  bool verified = false;
  std::optional<Error> error;
  Millis elapsed{0};
  std::string events_note;  ///< set when udevd does not run and the kernel's uevents stood in
  std::string events;       ///< whose events verification listened to: "udev" or "kernel"
};

void print_json(std::ostream& os, const Outcome& o, bool dry_run) {
  JsonWriter j(os);
  j.begin_object();
  j.key("device");
  device_json(j, *o.before);
  j.key("after");
  if (o.after) {
    device_json(j, *o.after);
  } else {
    j.null();
  }
  j.field("method", std::string(to_string(o.method))).field("dry_run", dry_run);
  j.field("ok", !o.error).field("verified", o.verified);
  j.field("elapsed_ms", static_cast<std::int64_t>(o.elapsed.count()));
  if (!o.events.empty()) j.field("events", o.events);
  j.key("error");
  if (o.error) {
    j.value(o.error->message());
  } else {
    j.null();
  }
  j.key("steps").begin_array();
  if (o.plan != nullptr) {
    for (const Step& s : o.plan->steps) j.value(to_string(s.action));
  }
  j.end_array();
  j.key("keep_resumed").begin_array();
  if (o.plan != nullptr) {
    for (const auto& node : o.plan->keep_resumed) j.value(node);
  }
  j.end_array();
  j.key("collateral").begin_array();
  if (o.plan != nullptr) {
    for (const UsbDevice& d : o.plan->collateral) device_json(j, d);
  }
  j.end_array();
  j.key("port_users").begin_array();
  if (o.plan != nullptr) {
    for (const auto& u : o.plan->port_users) j.value(u);
  }
  j.end_array();
  actions_json(j, "performed", o.run.performed);
  actions_json(j, "left_off", o.run.left_off);
  j.end_object();
}

void print_plan(std::ostream& os, const Plan& plan) {
  for (const Step& s : plan.steps) os << "  " << to_string(s.action) << '\n';
  for (const auto& node : plan.keep_resumed) os << "  (hub " << node << " kept resumed meanwhile)\n";
  if (plan.collateral.empty() && plan.port_users.empty()) {
    os << "disturbs no other device\n";
    return;
  }
  os << "would also disturb:\n";
  for (const UsbDevice& d : plan.collateral) os << "  " << describe_device(d) << '\n';
  for (const auto& u : plan.port_users) os << "  " << u << '\n';
}

}  // namespace

int cmd_reset(const Args& args, Context& ctx) {
  ResetArgs ra;
  bool help = false;
  if (auto err = parse_args(args, ra, help); !err.empty()) {
    ctx.err << "usbrecover: reset: " << err << '\n';
    reset_usage(ctx.err);
    return kExitUsage;
  }
  if (help) {
    reset_usage(ctx.out);
    return kExitOk;
  }
  if (ra.timings && !timings::enabled()) timings::enable();
  for (const auto& line : repair_left_behind(ctx.sysfs_root, ctx.dev_root, ctx.state_dir))
    ctx.err << "usbrecover: reset: " << line << '\n';
  std::optional<timings::Scope> phase(std::in_place, "selector");
  auto sel = parse_selector(ra.selector, ra.serial);
  if (!sel) {
    ctx.err << "usbrecover: reset: " << sel.error().message() << '\n';
    return kExitUsage;
  }
  auto reader = SnapshotReader::open(reader_options(ctx));
  if (!reader) {
    ctx.err << "usbrecover: reset: " << reader.error().message() << '\n';
    return kExitSoftware;
  }
  auto found = find_selected(*sel, *reader, ctx.sysfs_root);
  if (!found) {
    ctx.err << "usbrecover: reset: " << found.error().message() << '\n';
    return kExitSoftware;
  }
  const Resolution& res = *found;
  if (!res.found()) {
    ctx.err << "usbrecover: reset: " << res.error.message() << '\n';
    return res.not_found() ? kExitNotFound : kExitRefused;
  }
  const auto started = Clock::now();
  phase.emplace("snapshot");
  // As much of the tree as the method can disturb: the device's own subtree for the methods
  // that act on it alone, every device on the controller only for `controller`.
  auto snap = reader->snapshot(res.device(), snapshot_scope(*ra.method));
  const std::string label = "reset '" + res.device().sysname + "' (" + hex4(res.device().vendor) + ":" +
                            hex4(res.device().product) + ")";
  if (!snap) {
    ctx.err << "usbrecover: " << snap.error().within(label).message() << '\n';
    return kExitNotFound;
  }
  add_nut_port_users(*snap, kDefaultUpsConf);
  phase.reset();

  Outcome o;
  o.before = &snap->device;
  o.method = *ra.method;
  auto finish = [&](int rc) {
    o.elapsed = std::chrono::duration_cast<Millis>(Clock::now() - started);
    if (ra.json) print_json(ctx.out, o, ra.dry_run);
    if (o.error) {
      ctx.err << "usbrecover: " << o.error->within(label).message()
              << (o.events_note.empty() ? "" : " (" + o.events_note + ")") << '\n';
    }
    if (ra.timings) timings::report(ctx.err);
    return rc;
  };

  auto plan =
      plan_method(*snap, *ra.method, PlanOptions{.sysfs_root = ctx.sysfs_root, .off_time = ra.off_time});
  if (!plan) {
    o.error = plan.error();
    return finish(kExitRefused);
  }
  o.plan = &*plan;
  auto allowed = refuse_collateral(*plan, ra.allow_collateral);
  if (ra.dry_run) {
    if (!ra.json) {
      ctx.out << label << " with " << to_string(*ra.method) << " would do:\n";
      print_plan(ctx.out, *plan);
    }
    if (!allowed) o.error = allowed.error();
    return finish(allowed ? kExitOk : kExitRefused);
  }
  if (!allowed) {
    o.error = allowed.error();
    return finish(kExitRefused);
  }

  // One recovery per device at a time: a run already under way (udev, a service) owns it.
  StateStore store(ctx.state_dir);
  phase.emplace("lock");
  auto lock = store.lock(connector_key(*snap), false);
  phase.reset();
  if (!lock) {
    o.error = lock.error();
    return finish(lock.error().errnum == EWOULDBLOCK ? kExitTempFail : kExitSoftware);
  }

  // From here on something may be turned off: signals only raise a flag, the deadline and the
  // flag are checked between steps, and everything turned off is turned back on.
  InterruptGuard guard;
  const auto deadline = Clock::now() + ra.timeout;
  StopCheck stop = [&]() -> std::optional<std::string> {
    if (int sig = guard.caught()) return std::string("interrupted by ") + sigabbrev_np(sig);
    if (Clock::now() >= deadline) return "timed out after " + format_duration(ra.timeout);
    return std::nullopt;
  };
  RecoveryOutcome out =
      carry_out(*snap, *plan, *reader,
                RecoveryRoots{ctx.sysfs_root, ctx.dev_root, ctx.state_dir, ctx.udev_control}, deadline, stop);
  o.run = out.run;
  for (const auto& n : out.run.not_held) ctx.err << "usbrecover: reset: " << n << '\n';
  o.events = out.events == EventSource::Udev ? "udev" : "kernel";
  if (plan->reenumerates) o.events_note = events_note(out);
  if (!out.verified()) {
    o.error = out.error;
    bool ran = o.run.ok();
    return finish(!ran && permission(*o.run.error) ? kExitNoPerm : kExitFailed);
  }
  const UsbDevice* after = &*out.after;
  o.after = *after;
  o.verified = true;
  o.elapsed = std::chrono::duration_cast<Millis>(Clock::now() - started);
  if (!ra.json) {
    ctx.out << label << ": recovered with " << to_string(*ra.method) << " in " << o.elapsed.count()
            << " ms, now " << busdev(*after) << (o.events_note.empty() ? "" : " (" + o.events_note + ")")
            << '\n';
  }
  return finish(kExitOk);
}

}  // namespace usbrecover
