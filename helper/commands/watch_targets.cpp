// SPDX-License-Identifier: MIT
#include "commands/watch_targets.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "commands/entry.hpp"
#include "commands/target.hpp"
#include "decide/history.hpp"
#include "decide/state_store.hpp"
#include "decide/ups_conf.hpp"
#include "properties.hpp"
#include "snapshot/sysfs.hpp"
#include "util/md5.hpp"
#include "util/text.hpp"

namespace usbrecover {

std::string nut_unit_instance(const std::string& section) {
  // systemd's unit name characters; "nut-driver@" and ".service" around it within 255 bytes.
  const bool valid = !section.empty() && section.size() <= 255 - 19 &&
                     std::all_of(section.begin(), section.end(), [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                              c == ':' || c == '-' || c == '_' || c == '.' || c == '\\';
                     });
  return valid ? section : "MD5_" + md5_hex(section + "\n");
}

NutTargets find_nut_targets(SnapshotReader& reader, const Context& ctx, const std::string& ups_conf,
                            const std::string& statepath) {
  NutTargets out;
  std::ifstream in(ups_conf);
  if (!in) {
    out.not_watched.emplace_back("", ups_conf + ": cannot be read; no NUT driver is watched");
    return out;
  }
  std::ostringstream text;
  text << in.rdbuf();
  const UpsConf conf = parse_ups_conf(text.str());
  std::vector<std::string> seen;
  for (const auto& section : conf.sections) {
    if (std::find(seen.begin(), seen.end(), section.name) != seen.end()) continue;
    seen.push_back(section.name);
    const std::string& name = section.name;
    TargetSpec spec;
    spec.nut_instance = section.name;
    spec.ups_conf = ups_conf;
    auto target = resolve_target(spec, reader, ctx.sysfs_root);
    if (!target) {
      out.not_watched.emplace_back(name, target.error().message());
      continue;
    }
    if (target->kind != Target::Kind::Found) {
      out.not_watched.emplace_back(name, target->why);
      continue;
    }
    auto dc = read_device_context(reader, target->device, target->tty, ups_conf);
    if (!dc) {
      out.not_watched.emplace_back(name, dc.error().message());
      continue;
    }
    const UsbDevice& d = dc->snapshot.device;
    const std::string what = hex4(d.vendor) + ":" + hex4(d.product) + " on " + d.port_path;
    if (!dc->table) {
      out.not_watched.emplace_back(name, what + " is not in the usbrecover table");
      continue;
    }
    const auto& services = dc->table->services;
    if (std::find(services.begin(), services.end(), "nut-driver@.service") == services.end()) {
      out.not_watched.emplace_back(name, "the entry of " + what + " does not name nut-driver@.service");
      continue;
    }
    auto lookup = nut_matcher(conf, section.name, ups_conf);
    NutTarget t;
    t.section = section.name;
    t.instance = nut_unit_instance(section.name);
    t.unit = "nut-driver@" + t.instance + ".service";
    t.driver = lookup && lookup->matcher ? lookup->matcher->driver : section.get("driver").value_or("");
    t.socket = statepath + "/" + t.driver + "-" + section.name;
    t.device = d;
    t.table = *dc->table;
    out.watched.push_back(std::move(t));
  }
  return out;
}

void record_over_current(SnapshotReader& reader, const Context& ctx, const std::string& port, unsigned count,
                         Logger& log) {
  // Recorded on the connector's history: the planner powers no port on into it within the window.
  auto entry = port_entry(reader, ctx.sysfs_root, port);
  const Policy policy = entry ? entry->second.policy : Policy{};
  std::string key = port_key(port);
  if (auto hub_port = hub_of_port_path(port)) {
    if (auto hub = reader.device(ctx.sysfs_root + "/bus/usb/devices/" + hub_port->first)) {
      if (auto snap = reader.port_snapshot(hub->syspath, hub_port->second, SnapshotScope::Hub))
        key = connector_key(*snap);
    }
  }
  StateStore store(ctx.state_dir);
  const EpochMs now = epoch_now();
  bool logged_before = false;
  if (auto lock = store.lock(key, true)) {
    auto history = store.load(key);
    History h = history ? *history : History{};
    logged_before = std::any_of(h.overcurrents.begin(), h.overcurrents.end(),
                                [&](const OverCurrent& o) { return o.at > now - policy.window.count(); });
    h.overcurrents.push_back({now, count});
    (void)store.save(key, h);
  }
  if (logged_before) return;  // once a window: the journal has it, the planner knows
  log.log(
      LogLine{Priority::Err,
              message_id::kOverCurrent,
              terminal_safe("USB port " + port + " reported an over-current" +
                            (count ? " (count " + std::to_string(count) + ")" : "") +
                            "; usbrecover will not power it on again for " + format_duration(policy.window) +
                            ": unplug the device and check it, its cable and the hub's power supply"),
              {{"USBRECOVER_PORT", port}}});
}

std::vector<ControllerCover> controller_covers(SnapshotReader& reader) {
  std::vector<ControllerCover> out;
  auto devices = reader.all_devices();
  if (!devices) return out;
  for (const UsbDevice& d : *devices) {
    if (d.is_root_hub) continue;
    auto props = udev_properties(d.syspath);
    if (!props || !has_table_properties(*props)) continue;
    auto table = policy_from_properties(*props);
    if (!table) continue;
    const auto& methods = table->policy.methods;
    if (std::find(methods.begin(), methods.end(), Method::Controller) == methods.end()) continue;
    auto ctrl = reader.controller(d);
    if (!ctrl) continue;
    ControllerCover c{ctrl->name, d.port_path, std::move(*table), {}};
    // Its entry's own properties (a hub's port entries are the ports'), and which device it is.
    for (auto& [name, value] : *props)
      if (name.starts_with("USBRECOVER_") && !name.starts_with("USBRECOVER_PORT")) c.properties[name] = value;
    c.properties.try_emplace(prop::kIds, hex4(d.vendor) + ":" + hex4(d.product));
    out.push_back(std::move(c));
  }
  return out;
}

const ControllerCover* cover_of(const std::vector<ControllerCover>& covers, const std::string& controller) {
  auto it = std::find_if(covers.begin(), covers.end(),
                         [&](const ControllerCover& c) { return c.controller == controller; });
  return it == covers.end() ? nullptr : &*it;
}

std::vector<std::string> controller_died_args(const ControllerCover& cover) {
  std::vector<std::string> args{"handle",         "--trigger", "controller-died", "--controller",
                                cover.controller, "--port",    cover.port_path};
  for (const auto& [name, value] : cover.properties) {
    args.emplace_back("--property");
    args.push_back(name + "=" + value);
  }
  return args;
}

std::optional<std::pair<std::string, TablePolicy>> port_entry(SnapshotReader& reader,
                                                              const std::string& sysfs_root,
                                                              const std::string& port_path) {
  auto lookup = [&](const std::string& path) -> std::optional<std::pair<std::string, TablePolicy>> {
    auto hub_port = hub_of_port_path(path);
    if (!hub_port) return std::nullopt;
    auto hub = reader.device(sysfs_root + "/bus/usb/devices/" + hub_port->first);
    if (!hub) return std::nullopt;
    auto props = udev_properties(hub->syspath);
    if (!props || !has_table_properties(*props, hub_port->second)) return std::nullopt;
    auto table = policy_from_properties(*props, hub_port->second);
    if (!table) return std::nullopt;
    return std::pair{path, *table};
  };
  if (auto e = lookup(port_path)) return e;
  // The other half of a USB3 connector: a failure logged on the SuperSpeed port of an entry
  // that names the USB 2.0 one, or the other way round.
  auto hub_port = hub_of_port_path(port_path);
  if (!hub_port) return std::nullopt;
  auto hub = reader.device(sysfs_root + "/bus/usb/devices/" + hub_port->first);
  if (!hub) return std::nullopt;
  for (const auto& port : reader.ports(*hub)) {
    if (port.number != hub_port->second || port.peer_syspath.empty()) continue;
    if (auto peer = port_path_of_port_dir(port.peer_syspath)) return lookup(*peer);
  }
  return std::nullopt;
}

}  // namespace usbrecover
