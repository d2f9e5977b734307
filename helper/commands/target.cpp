// SPDX-License-Identifier: MIT
#include "commands/target.hpp"

#include <libudev.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <variant>

#include "decide/ups_conf.hpp"
#include "properties.hpp"
#include "snapshot/selector.hpp"

namespace usbrecover {

namespace {

Result<Target> from_candidates(std::vector<UsbDevice> matches, const std::string& what) {
  Target t;
  if (matches.size() == 1) {
    t.kind = Target::Kind::Found;
    t.device = std::move(matches.front());
  } else if (matches.empty()) {
    t.kind = Target::Kind::NotFound;
    t.why = "no USB device matches " + what;
  } else {
    t.kind = Target::Kind::Ambiguous;
    t.why = what + " matches " + std::to_string(matches.size()) + " devices:";
    for (const auto& d : matches) t.why += " " + describe_candidate(d) + ";";
    t.why.pop_back();
  }
  return t;
}

/// realpath(3) as a string, or the errno that stopped it.
std::variant<std::string, int> real_path(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> r(::realpath(path.c_str(), nullptr), &std::free);
  if (!r) return errno;
  return std::string(r.get());
}

/// The USB device a serial UPS's port is on: the port's tty (symlinks such as
/// /dev/serial/by-id/... followed) and the USB device that tty sits on.
Result<Target> serial_target(const std::string& port, const std::string& section, SnapshotReader& reader) {
  const std::string what = "port " + port + " of NUT instance [" + section + "]";
  auto node = real_path(port);
  if (const int* err = std::get_if<int>(&node)) {
    if (*err == ENOENT || *err == ENOTDIR)
      return Target{Target::Kind::NotFound, {}, what + " does not exist (is the adapter plugged in?)", {}};
    return Error{.context = {},
                 .object = port,
                 .reason = "cannot resolve the port of NUT instance [" + section + "]",
                 .errnum = *err};
  }
  const std::string& path = std::get<std::string>(node);
  auto usb = reader.usb_device_above("tty", path.substr(path.rfind('/') + 1));
  if (!usb && usb.error().errnum != ENOENT) return usb.error();
  if (!usb || !*usb) return Target{Target::Kind::NotOurs, {}, what + " is not on USB", {}};
  return Target{Target::Kind::Found, std::move(**usb), {}, path.substr(path.rfind('/') + 1)};
}

/// A NUT id that is four hex digits and nothing else ("0665"), as a number; nullopt for a
/// pattern, which only the matcher can apply.
std::optional<std::uint16_t> plain_id(const std::optional<std::string>& v) {
  if (!v || v->size() != 4) return std::nullopt;
  unsigned n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n, 16);
  if (ec != std::errc() || p != v->data() + v->size()) return std::nullopt;
  return static_cast<std::uint16_t>(n);
}

}  // namespace

ReaderOptions reader_options(const Context& ctx) {
  const auto slash = ctx.udev_control.rfind('/');
  const std::string udev_dir = slash == std::string::npos ? "." : ctx.udev_control.substr(0, slash);
  return ReaderOptions{.dev_root = ctx.dev_root,
                       .mountinfo = ctx.mountinfo,
                       .swaps = ctx.swaps,
                       .proc_root = ctx.proc_root,
                       .udev_tags = udev_dir + "/tags/" + prop::kTag};
}

Result<Target> resolve_target(const TargetSpec& spec, SnapshotReader& reader, const std::string& sysfs_root) {
  if (spec.syspath) {
    std::string path = *spec.syspath;
    if (!path.starts_with(sysfs_root + "/")) path = sysfs_root + path;
    auto d = reader.device(path);
    if (!d) return Target{Target::Kind::NotFound, {}, d.error().message(), {}};
    return Target{Target::Kind::Found, *d, {}, {}};
  }
  if (spec.match) {
    auto sel = parse_selector(*spec.match, spec.serial);
    if (!sel) return sel.error();
    auto r = find_selected(*sel, reader, sysfs_root);
    if (!r) return r.error();
    return from_candidates(
        r->matches, "'" + *spec.match + "'" + (spec.serial ? " with serial '" + *spec.serial + "'" : ""));
  }
  if (!spec.nut_instance) return Error{.context = {}, .object = {}, .reason = "no device given", .errnum = 0};
  std::ifstream in(spec.ups_conf);
  if (!in) return errno_error(spec.ups_conf, "cannot read");
  std::ostringstream text;
  text << in.rdbuf();
  const UpsConf conf = parse_ups_conf(text.str());
  // The drop-in passes the unit's instance (%i): the section's name, or its MD5_ name.
  const std::string section = nut_section_for_instance(conf, *spec.nut_instance).value_or(*spec.nut_instance);
  auto lookup = nut_matcher(conf, section, spec.ups_conf);
  if (!lookup) return lookup.error();
  if (lookup->not_usb) return Target{Target::Kind::NotOurs, {}, lookup->why, {}};
  if (lookup->serial_port) return serial_target(*lookup->serial_port, section, reader);
  // NUT's ids are patterns; the usual plain four hex digits filter the enumeration.
  DeviceFilter filter{
      .vendor = plain_id(lookup->matcher->vendorid), .product = {}, .mounts = false, .table_entries = false};
  if (filter.vendor) filter.product = plain_id(lookup->matcher->productid);
  auto devices = reader.all_devices(filter);
  if (!devices) return devices.error();
  std::vector<UsbDevice> matches;
  for (const auto& d : *devices)
    if (!d.is_root_hub && lookup->matcher->matches(d)) matches.push_back(d);
  return from_candidates(std::move(matches), "NUT instance [" + section + "]");
}

Result<Resolution> find_selected(const Selector& sel, SnapshotReader& reader, const std::string& sysfs_root) {
  std::optional<std::string> direct;
  if (sel.kind == Selector::Kind::PortPath) {
    // A root hub's port path is "BUS-0"; its sysfs name is "usbBUS".
    const std::string& p = sel.port_path;
    std::string name = p.ends_with("-0") ? "usb" + p.substr(0, p.size() - 2) : p;
    direct = sysfs_root + "/bus/usb/devices/" + name;
  } else if (sel.kind == Selector::Kind::SysPath) {
    direct = sysfs_root + sel.syspath.substr(std::string_view("/sys").size());
  }
  if (direct) {
    std::vector<UsbDevice> found;
    if (auto d = reader.device(*direct)) found.push_back(std::move(*d));
    return resolve_selector(sel, found);
  }
  // A device by ids: the enumeration reads only the ids of the others.
  DeviceFilter filter{.vendor = {}, .product = {}, .mounts = false, .table_entries = false};
  if (sel.kind == Selector::Kind::Id) {
    filter.vendor = sel.vendor;
    filter.product = sel.product;
  }
  auto devices = reader.all_devices(filter);
  if (!devices) return devices.error();
  return resolve_selector(sel, *devices);
}

void add_nut_port_users(Snapshot& snapshot, const std::string& ups_conf) {
  std::vector<TtyPort*> ttys;
  for (auto& i : snapshot.device.interfaces)
    for (auto& t : i.ttys) ttys.push_back(&t);
  if (ttys.size() < 2) return;
  std::ifstream in(ups_conf);
  if (!in) return;
  std::ostringstream text;
  text << in.rdbuf();
  const UpsConf conf = parse_ups_conf(text.str());
  std::vector<std::string> done;
  for (const auto& section : conf.sections) {
    if (std::find(done.begin(), done.end(), section.name) != done.end()) continue;
    done.push_back(section.name);
    auto lookup = nut_matcher(conf, section.name, ups_conf);
    if (!lookup || !lookup->serial_port) continue;
    auto node = real_path(*lookup->serial_port);
    const std::string* path = std::get_if<std::string>(&node);
    if (path == nullptr) continue;
    const std::string name = path->substr(path->rfind('/') + 1);
    for (TtyPort* t : ttys) {
      if (t->name == name) t->users.push_back("NUT instance [" + section.name + "]");
    }
  }
}

Result<Properties> udev_properties(const std::string& syspath) {
  udev* u = udev_new();
  if (!u) return errno_error("libudev", "cannot initialise");
  udev_device* d = udev_device_new_from_syspath(u, syspath.c_str());
  if (!d) {
    Error e = errno_error(syspath, "no such device");
    udev_unref(u);
    return e;
  }
  Properties props;
  for (auto* e = udev_device_get_properties_list_entry(d); e; e = udev_list_entry_get_next(e)) {
    const char* name = udev_list_entry_get_name(e);
    const char* value = udev_list_entry_get_value(e);
    if (name) props[name] = value ? value : "";
  }
  udev_device_unref(d);
  udev_unref(u);
  return props;
}

}  // namespace usbrecover
