// SPDX-License-Identifier: MIT
#include "commands/entry.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ostream>

#include "snapshot/snapshot_json.hpp"
#include "util/json.hpp"
#include "util/text.hpp"

namespace usbrecover {

EpochMs epoch_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SnapshotScope scope_for(const Policy& policy) {
  bool controller =
      std::find(policy.methods.begin(), policy.methods.end(), Method::Controller) != policy.methods.end();
  return controller ? SnapshotScope::Controller : SnapshotScope::Hub;
}

Result<DeviceContext> read_device_context(SnapshotReader& reader, const UsbDevice& device,
                                          const std::string& own_tty, const std::string& ups_conf) {
  DeviceContext dc;
  auto props = udev_properties(device.syspath);
  if (!props) return props.error();
  if (has_table_properties(*props)) {
    auto table = policy_from_properties(*props);
    if (table)
      dc.table = *table;
    else
      dc.policy_error = table.error().message();
  }
  // Read only as much of the tree as the policy's methods need.
  auto snap = reader.snapshot(device.syspath, scope_for(dc.table ? dc.table->policy : Policy{}));
  if (!snap) return snap.error();
  dc.snapshot = std::move(*snap);
  dc.snapshot.own_tty = own_tty;
  add_nut_port_users(dc.snapshot, ups_conf);
  dc.key = connector_key(dc.snapshot);
  return dc;
}

std::variant<PreparedDevice, int> prepare_device(const EntryOptions& o, const Context& ctx, bool gone_is_ok,
                                                 const EntryReport& report) {
  auto reader = SnapshotReader::open(reader_options(ctx));
  if (!reader) {
    report(Priority::Err, reader.error().message());
    return kExitSoftware;
  }
  auto target = resolve_target(o.target, *reader, ctx.sysfs_root);
  if (!target) {
    report(Priority::Err, target.error().message());
    return kExitData;
  }
  switch (target->kind) {
    case Target::Kind::Found:
      break;
    case Target::Kind::NotOurs:
      report(Priority::Info, "nothing to do: " + target->why);
      return kExitOk;
    case Target::Kind::NotFound:
      // For `add` the device was unplugged (or re-enumerated) before the unit ran: not a failure.
      report(gone_is_ok ? Priority::Info : Priority::Warning, target->why);
      return gone_is_ok ? kExitOk : kExitNotFound;
    case Target::Kind::Ambiguous:
      report(Priority::Err, "refusing to guess: " + target->why);
      return kExitRefused;
  }
  auto dc = read_device_context(*reader, target->device, target->tty, o.target.ups_conf);
  if (!dc) {
    report(Priority::Warning, dc.error().message());
    return kExitNotFound;
  }
  return PreparedDevice{std::move(*reader), std::move(*dc)};
}

Result<DeviceContext> read_port_context(SnapshotReader& reader, const std::string& sysfs_root,
                                        const std::string& port_path) {
  auto hub_port = hub_of_port_path(port_path);
  if (!hub_port)
    return Error{.context = {}, .object = port_path, .reason = "is not a port path", .errnum = 0};
  const auto& [hub_name, number] = *hub_port;
  auto hub = reader.device(sysfs_root + "/bus/usb/devices/" + hub_name);
  if (!hub) return hub.error();
  DeviceContext dc;
  auto props = udev_properties(hub->syspath);
  if (!props) return props.error();
  if (has_table_properties(*props, number)) {
    auto table = policy_from_properties(*props, number);
    if (table)
      dc.table = *table;
    else
      dc.policy_error = table.error().message();
  }
  auto snap = reader.port_snapshot(hub->syspath, number, scope_for(dc.table ? dc.table->policy : Policy{}));
  if (!snap) return snap.error();
  dc.snapshot = std::move(*snap);
  dc.key = connector_key(dc.snapshot);
  return dc;
}

Result<DeviceContext> read_dead_controller_context(SnapshotReader& reader, const std::string& port_path,
                                                   const std::string& controller, TablePolicy table) {
  auto snap = reader.dead_controller_snapshot(port_path);
  if (!snap) return snap.error();
  if (snap->controller.name != controller)
    return Error{.context = {},
                 .object = port_path,
                 .reason = "is on host controller " + snap->controller.name + ", not " + controller,
                 .errnum = 0};
  DeviceContext dc;
  dc.table = std::move(table);
  dc.snapshot = std::move(*snap);
  dc.key = connector_key(dc.snapshot);
  return dc;
}

bool controller_dead(SnapshotReader& reader, const std::string& sysfs_root, const Controller& controller) {
  for (unsigned bus : controller.buses) {
    auto root = reader.device(sysfs_root + "/bus/usb/devices/usb" + std::to_string(bus));
    if (!root) continue;
    // usbfs refuses to open a device the kernel marked not attached, as usb_hc_died() marks
    // the root hubs of a dead controller.
    const int fd = ::open(reader.usbfs_node(*root).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ::close(fd);
      continue;
    }
    if (errno == ENODEV) return true;
  }
  return false;
}

std::string who(const DeviceContext& dc) {
  const UsbDevice& d = dc.snapshot.device;
  if (!dc.snapshot.device_present) return "port '" + d.port_path + "'";
  return "'" + d.sysname + "' (" + hex4(d.vendor) + ":" + hex4(d.product) + ")";
}

std::string parse_entry_options(const Args& args, EntryOptions& o, bool positional_selector) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string* {
      if (i + 1 >= args.size() || args[i + 1].empty()) return nullptr;
      return &args[++i];
    };
    const std::string* v = nullptr;
    if (a == "--help" || a == "-h") {
      o.help = true;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--probe") {
      o.probe = true;
    } else if (a == "--dry-run") {
      o.dry_run = true;
    } else if (a == "--trigger") {
      if (!(v = value()))
        return "'--trigger' needs a value (add, service-start, service-stop, service-stale, port-failed, "
               "controller-died)";
      o.trigger = trigger_from_string(*v);
      if (!o.trigger)
        return "unknown trigger '" + terminal_safe(*v) +
               "' (expected add, service-start, service-stop, service-stale, port-failed, controller-died)";
    } else if (a == "--syspath") {
      if (!(v = value())) return "'--syspath' needs a path";
      o.target.syspath = *v;
    } else if (a == "--match") {
      if (!(v = value())) return "'--match' needs a selector";
      o.target.match = *v;
    } else if (a == "--serial") {
      if (!(v = value())) return "'--serial' needs a value";
      o.target.serial = *v;
    } else if (a == "--nut-instance") {
      if (!(v = value())) return "'--nut-instance' needs a name";
      o.target.nut_instance = *v;
    } else if (a == "--ups-conf") {
      if (!(v = value())) return "'--ups-conf' needs a path";
      o.target.ups_conf = *v;
    } else if (a == "--port") {
      if (!(v = value())) return "'--port' needs a port path";
      o.port = *v;
    } else if (a == "--controller") {
      if (!(v = value())) return "'--controller' needs the controller's name (a PCI address)";
      o.controller = *v;
    } else if (a == "--property") {
      if (!(v = value())) return "'--property' needs NAME=VALUE";
      const auto eq = v->find('=');
      if (eq == std::string::npos || !v->starts_with("USBRECOVER_") ||
          v->find_first_of("\n\r") != std::string::npos)
        return "bad '--property' '" + terminal_safe(*v) + "' (expected USBRECOVER_NAME=VALUE on one line)";
      if (!o.properties.emplace(v->substr(0, eq), v->substr(eq + 1)).second)
        return "'--property' " + terminal_safe(v->substr(0, eq)) + " is given twice";
    } else if (a == "--reason") {
      if (!(v = value())) return "'--reason' needs words";
      o.reason = *v;
    } else if (a == "--unit") {
      if (!(v = value())) return "'--unit' needs a unit name";
      o.unit = *v;
    } else if (a == "--metrics") {
      if (!(v = value())) return "'--metrics' needs a file";
      o.metrics = *v;
    } else if (a == "--timeout") {
      if (!(v = value())) return "'--timeout' needs a duration";
      auto d = parse_duration(*v);
      if (!d || d->count() == 0)
        return "bad duration '" + terminal_safe(*v) + "' for '--timeout' (e.g. 30s, 2m)";
      o.timeout = *d;
    } else if (positional_selector && !a.starts_with("-") && !o.selector) {
      o.selector = a;
    } else {
      return "unknown argument '" + terminal_safe(a) + "'";
    }
  }
  int given = (o.target.syspath ? 1 : 0) + (o.target.match ? 1 : 0) + (o.target.nut_instance ? 1 : 0) +
              (o.selector ? 1 : 0) + (o.port ? 1 : 0);
  if (!o.help && given != 1)
    return "name exactly one device: a selector, --syspath, --match, --nut-instance or --port";
  if (o.target.serial && !o.target.match && !o.selector) return "'--serial' goes with a selector";
  if (o.selector) {
    o.target.match = o.selector;
  }
  return {};
}

namespace {

const char* probe_state(ProbeResult::State s) {
  switch (s) {
    case ProbeResult::State::NotConfigured:
      return "not-configured";
    case ProbeResult::State::Healthy:
      return "healthy";
    case ProbeResult::State::Failed:
      return "failed";
  }
  return "";
}

}  // namespace

void decision_json(std::ostream& os, const DeviceContext& dc, const Policy& policy, Trigger trigger,
                   const ProbeResult& probe, const Decision& d) {
  JsonWriter j(os);
  j.begin_object();
  j.key("device");
  write_json(j, dc.snapshot.device);
  j.field("in_table", dc.table.has_value());
  if (dc.table) {
    j.field("entry", dc.table->name);
    j.field("source", dc.table->source);
  }
  if (!dc.policy_error.empty()) j.field("policy_error", dc.policy_error);
  j.key("policy").begin_object();
  j.key("methods").begin_array();
  for (Method m : policy.methods) j.value(to_string(m));
  j.end_array();
  j.field("max_resets", policy.max_resets);
  j.field("window_ms", static_cast<std::int64_t>(policy.window.count()));
  j.field("cooldown_ms", static_cast<std::int64_t>(policy.cooldown.count()));
  j.field("probe", to_string(policy.probe));
  j.field("allow_collateral", policy.allow_collateral);
  j.end_object();
  j.field("trigger", to_string(trigger));
  j.key("probe").begin_object();
  j.field("state", probe_state(probe.state));
  j.field("detail", probe.detail);
  j.end_object();
  j.field("verdict", to_string(d.verdict));
  j.field("summary", d.summary);
  j.key("reasons").begin_array();
  for (const auto& r : d.reasons) j.value(r);
  j.end_array();
  j.field("budget_left", d.budget_left);
  if (d.next_allowed) j.field("next_allowed_ms", static_cast<std::int64_t>(*d.next_allowed));
  // Where the history says this device was cured the last times (null when it remembers none).
  j.key("remembered_cure");
  if (d.remembered) {
    j.begin_object();
    j.field("method", to_string(d.remembered->method));
    j.key("cured_at_ms").begin_array();
    for (EpochMs t : d.remembered->cured_at) j.value(static_cast<std::int64_t>(t));
    j.end_array();
    j.key("failed_below").begin_array();
    for (Method m : d.remembered->failed_below) j.value(to_string(m));
    j.end_array();
    j.field("starts_here", d.starts_at_remembered);
    j.end_object();
  } else {
    j.null();
  }
  j.key("ladder").begin_array();
  for (const auto& r : d.ladder) {
    j.begin_object();
    j.field("method", to_string(r.method));
    j.field("usable", r.usable);
    j.field("why", r.why);
    j.key("steps").begin_array();
    for (const auto& s : r.plan.steps) j.value(to_string(s.action));
    j.end_array();
    j.key("keep_resumed").begin_array();
    for (const auto& node : r.plan.keep_resumed) j.value(node);
    j.end_array();
    j.key("collateral").begin_array();
    for (const auto& c : r.plan.collateral) j.value(describe_device(c));
    for (const auto& u : r.plan.port_users) j.value(u);
    j.end_array();
    j.end_object();
  }
  j.end_array();
  j.end_object();
}

void decision_text(std::ostream& os, const DeviceContext& dc, const Policy& policy, Trigger trigger,
                   const ProbeResult& probe, const Decision& d) {
  const UsbDevice& dev = dc.snapshot.device;
  os << terminal_safe(describe_device(dev)) << "\n";
  if (dc.table)
    os << "  table entry: " << terminal_safe(dc.table->name) << " (" << terminal_safe(dc.table->source)
       << ")\n";
  else if (!dc.policy_error.empty())
    os << "  table entry: unreadable: " << terminal_safe(dc.policy_error) << "\n";
  else
    os << "  table entry: none; showing the built-in policy\n";
  os << "  policy: methods " << join_methods(policy.methods) << ", max " << policy.max_resets << " per "
     << format_duration(policy.window) << ", cooldown " << format_duration(policy.cooldown) << ", probe "
     << to_string(policy.probe) << (policy.allow_collateral ? ", collateral allowed" : "") << "\n";
  os << "  trigger: " << to_string(trigger) << "; probe: " << probe_state(probe.state)
     << (probe.detail.empty() ? "" : " (" + terminal_safe(probe.detail) + ")") << "\n";
  os << "\n" << terminal_safe(d.summary) << "\n";
  for (const auto& r : d.reasons) os << "  because " << terminal_safe(r) << "\n";
  os << "\nladder (" << d.budget_left << " recoveries left in this window):\n";
  for (const auto& r : d.ladder) {
    os << "  " << (r.usable ? "try  " : "skip ") << to_string(r.method) << ": " << terminal_safe(r.why)
       << "\n";
    for (const auto& s : r.plan.steps) os << "         " << terminal_safe(to_string(s.action)) << "\n";
    for (const auto& node : r.plan.keep_resumed)
      os << "         (hub " << terminal_safe(node) << " kept resumed meanwhile)\n";
  }
}

}  // namespace usbrecover
