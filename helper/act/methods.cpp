// SPDX-License-Identifier: MIT
#include "act/methods.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include "util/text.hpp"

namespace usbrecover {

namespace {

// USB 2.0 spec 7.1.7.3: a device may take up to 100 ms after power is back before it must be
// addressable; a port kept off for less than that may not even have discharged VBUS.
constexpr Millis kMinPowerOff{100};

Error refused(std::string reason) {
  return Error{.context = {}, .object = {}, .reason = std::move(reason), .errnum = 0};
}

std::optional<unsigned> parse_uint(std::string_view s) {
  unsigned v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// The sysname a device on `port` of `hub` gets: "1-1" below root hub "usb1", "1-1.3" below "1-1".
std::string child_name(const UsbDevice& hub, unsigned port) {
  if (hub.is_root_hub) return std::to_string(hub.busnum) + "-" + std::to_string(port);
  return hub.sysname + "." + std::to_string(port);
}

bool is_at_or_below(const UsbDevice& d, const std::string& sysname) {
  return d.sysname == sysname || d.sysname.starts_with(sysname + ".");
}

// Every device below `top` (not `top` itself).
bool is_below_device(const UsbDevice& d, const UsbDevice& top) {
  if (d.is_root_hub || d.sysname == top.sysname) return false;
  if (top.is_root_hub) return d.busnum == top.busnum;
  return d.sysname.starts_with(top.sysname + ".");
}

// "…/1-1:1.0/1-1-port3" -> 3.
std::optional<unsigned> port_number_of(const std::string& port_syspath) {
  auto pos = port_syspath.rfind("-port");
  if (pos == std::string::npos) return std::nullopt;
  return parse_uint(std::string_view(port_syspath).substr(pos + 5));
}

std::string drivers_dir(const std::string& sysfs_root, const std::string& bus, const std::string& driver) {
  return sysfs_root + "/bus/" + bus + "/drivers/" + driver;
}

void add_off_on(std::vector<Step>& off, std::vector<Step>& on, Action off_action, Action on_action) {
  on.insert(on.begin(), Step{on_action, std::nullopt});
  off.push_back(Step{std::move(off_action), std::move(on_action)});
}

// Off steps in order, then `hold` (if any), then the on steps, which add_off_on() kept in
// reverse: the last thing turned off is the first turned back on, as the executor undoes.
std::vector<Step> join(std::vector<Step> off, std::optional<Millis> hold, std::vector<Step> on) {
  if (hold) off.push_back(Step{pause_action(*hold), std::nullopt});
  off.insert(off.end(), std::make_move_iterator(on.begin()), std::make_move_iterator(on.end()));
  return off;
}

Result<Plan> plan_port_power(const Snapshot& snap, const PlanOptions& opts) {
  const UsbDevice& dev = snap.device;
  if (!snap.hub || !snap.port)
    return refused(dev.sysname + " is a root hub; it has no upstream port to power off");
  const Hub& hub = *snap.hub;
  const Port& port = *snap.port;
  switch (hub.switching) {
    case PowerSwitching::None:
      return refused("hub " + hub.device.sysname + " does not switch port power");
    case PowerSwitching::Unknown:
      return refused("hub " + hub.device.sysname +
                     " does not say whether it switches port power (its hub descriptor was not read)");
    case PowerSwitching::Ganged:
    case PowerSwitching::PerPort:
      break;
  }
  // The USB2 and SuperSpeed halves of a USB3 port share one connector; powering off only one
  // half lets the device come straight back on the other.
  std::optional<unsigned> peer_port;
  if (!port.peer_syspath.empty()) {
    peer_port = port_number_of(port.peer_syspath);
    if (!peer_port || !snap.peer_hub) {
      return refused("port " + port.syspath + " has a USB3 peer port '" + port.peer_syspath +
                     "' whose hub is not known");
    }
  }
  Millis off_time =
      std::max({kMinPowerOff, Millis(hub.power_on_to_good_ms), opts.off_time.value_or(Millis(0))});
  if (snap.peer_hub) off_time = std::max(off_time, Millis(snap.peer_hub->power_on_to_good_ms));

  // The halves in the order they go off: USB2 first, SuperSpeed last, so that SuperSpeed is
  // powered again first and a USB3 device does not settle for its USB2 connection.
  struct Half {
    std::string port_syspath;
    const UsbDevice* hub;
    unsigned port;
  };
  std::vector<Half> halves = {{port.syspath, &hub.device, port.number}};
  if (peer_port) {
    Half peer{port.peer_syspath, &snap.peer_hub->device, *peer_port};
    if (hub.superspeed) {
      halves.insert(halves.begin(), peer);
    } else {
      halves.push_back(peer);
    }
  }

  std::vector<Step> off;
  std::vector<Step> on;
  Plan plan;
  for (const Half& h : halves) {
    if (!h.hub->devnode.empty() && std::find(plan.keep_resumed.begin(), plan.keep_resumed.end(),
                                             h.hub->devnode) == plan.keep_resumed.end())
      plan.keep_resumed.push_back(h.hub->devnode);
    if (port.disabled.has_value()) {
      // Kernel >= 6.0: the port's `disable` attribute powers the port off and keeps the hub
      // driver from switching it back on behind our back.
      add_off_on(off, on, write_action(h.port_syspath + "/disable", "1"),
                 write_action(h.port_syspath + "/disable", "0"));
    } else {
      if (h.hub->devnode.empty()) return refused("hub " + h.hub->sysname + " has no device node");
      add_off_on(off, on, port_power_action(h.hub->devnode, h.port, false),
                 port_power_action(h.hub->devnode, h.port, true));
    }
  }
  plan.steps = join(std::move(off), off_time, std::move(on));
  plan.reenumerates = true;
  return plan;
}

// sysfs's `speed` in Mbit/s ("1.5", "480", "5000", "10000") is SuperSpeed or faster.
bool at_superspeed(const std::string& speed) {
  auto mbps = parse_uint(speed);
  return mbps && *mbps >= 5000;
}

// A warm reset (USB 3.0 spec 7.4.2, 10.14.2.6.x) is the SuperSpeed port's own reset: unlike the
// hot reset of USBDEVFS_RESET, sent on a running link, it takes the link down and trains it
// again, as at a connection. It is asked of the parent hub's port, which for a root hub reaches
// the controller driver's hub_control() (xHCI sets the port's Warm Port Reset bit; dummy_hcd and
// vhci_hcd take it too), so a root port is no reason to refuse. The kernel started none of it:
// its hub driver only clears the port's reset-change bits (VM bed, tests/vm/README.md), and the
// device, at address 0 and unconfigured, is set up again only by the kernel's own reset of it.
// USBDEVFS_RESET after the warm reset does exactly that (a hot reset on the new link, then the
// address and configuration again, with the drivers' pre- and post-reset hooks), so the device
// keeps its device number. Not a `disable` cycle: that would enumerate the device anew, and on a
// port whose hub cannot switch power (every qemu xHCI root port) it loses the device.
Result<Plan> plan_warm_reset(const Snapshot& snap) {
  const UsbDevice& dev = snap.device;
  if (!snap.hub || !snap.port)
    return refused(dev.sysname + " is a root hub; it has no upstream port to reset");
  const Hub& hub = *snap.hub;
  const std::string no_warm_reset = "a warm reset (BH_PORT_RESET) exists only on SuperSpeed ports";
  const std::string at = dev.speed.empty() ? "at an unknown speed" : "at " + dev.speed + " Mbit/s";
  if (!at_superspeed(dev.speed) && dev.version.starts_with("3.")) {
    // A USB3 device on its USB 2.0 connection hangs off the USB 2.0 half of the connector.
    return refused(dev.sysname + " is a USB " + dev.version + " device connected " + at +
                   ": it fell back to USB 2.0, and " + no_warm_reset +
                   "; port-power, which powers both halves of the connector off, may bring it back at "
                   "SuperSpeed");
  }
  if (!hub.superspeed) {
    return refused(dev.sysname + " is on port " + std::to_string(snap.port->number) + " of " +
                   hub.device.sysname + ", a USB 2.0 hub: " + no_warm_reset);
  }
  if (!at_superspeed(dev.speed)) return refused(dev.sysname + " is connected " + at + ": " + no_warm_reset);
  if (hub.device.devnode.empty()) return refused("hub " + hub.device.sysname + " has no device node");
  if (dev.devnode.empty()) return refused(dev.sysname + " has no device node");
  Plan plan;
  plan.steps = {Step{warm_reset_action(hub.device.devnode, snap.port->number), std::nullopt},
                Step{reset_action(dev.devnode), std::nullopt}};
  return plan;
}

Result<Plan> plan_steps(const Snapshot& snap, Method method, const PlanOptions& opts) {
  const UsbDevice& dev = snap.device;
  Plan plan;
  // Nothing enumerated on the port (a port entry's recovery): only the port, its hub and the
  // controller can be acted on.
  if (!snap.device_present && (method == Method::Device || method == Method::WarmReset ||
                               method == Method::Rebind || method == Method::Authorize))
    return refused("nothing enumerated on port " + dev.port_path + " for " + std::string(to_string(method)) +
                   " to act on");
  switch (method) {
    case Method::Device:
      if (dev.is_root_hub) return refused(dev.sysname + " is a root hub, which the kernel does not reset");
      if (dev.devnode.empty()) return refused(dev.sysname + " has no device node");
      plan.steps = {Step{reset_action(dev.devnode), std::nullopt}};
      return plan;
    case Method::WarmReset:
      return plan_warm_reset(snap);
    case Method::Rebind: {
      std::vector<Step> off;
      std::vector<Step> on;
      for (const Interface& intf : dev.interfaces) {
        // usbfs is not a driver that binds: it is a program's claim, made and dropped by ioctl.
        if (intf.driver.empty() || intf.driver == "usbfs") continue;
        std::string dir = drivers_dir(opts.sysfs_root, "usb", intf.driver);
        add_off_on(off, on, write_action(dir + "/unbind", intf.sysname),
                   write_action(dir + "/bind", intf.sysname));
      }
      if (off.empty()) return refused("no kernel driver is bound to an interface of " + dev.sysname);
      // Bind back in interface order, not in reverse: a driver such as cdc_acm binds on its
      // control interface (the lower number) and claims its data interface from there, and
      // refuses a bind on the data interface alone.
      std::reverse(on.begin(), on.end());
      plan.steps = join(std::move(off), std::nullopt, std::move(on));
      return plan;
    }
    case Method::Authorize:
      plan.steps = {Step{write_action(dev.syspath + "/authorized", "0"),
                         write_action(dev.syspath + "/authorized", "1")},
                    Step{write_action(dev.syspath + "/authorized", "1"), std::nullopt}};
      return plan;
    case Method::PortPower:
      return plan_port_power(snap, opts);
    case Method::Hub:
      if (!snap.hub) return refused(dev.sysname + " is a root hub; it has no parent hub");
      if (snap.hub->device.is_root_hub) {
        return refused("parent hub " + snap.hub->device.sysname +
                       " is a root hub, which the kernel does not reset (try --method controller)");
      }
      if (snap.hub->device.devnode.empty())
        return refused("hub " + snap.hub->device.sysname + " has no device node");
      plan.steps = {Step{reset_action(snap.hub->device.devnode), std::nullopt}};
      plan.reenumerates = true;
      return plan;
    case Method::Controller: {
      const Controller& c = snap.controller;
      if (c.name.empty() || c.subsystem.empty())
        return refused("the host controller of " + dev.sysname + " is not known");
      if (!snap.controller_devices_read)
        return refused("the devices on controller " + c.name +
                       " were not read, so what it would disturb is unknown");
      if (c.driver.empty()) return refused("no driver is bound to host controller " + c.name);
      std::string dir = drivers_dir(opts.sysfs_root, c.subsystem, c.driver);
      plan.steps = {Step{write_action(dir + "/unbind", c.name), write_action(dir + "/bind", c.name)},
                    Step{write_action(dir + "/bind", c.name), std::nullopt}};
      plan.reenumerates = true;
      return plan;
    }
  }
  return refused("unknown method");
}

}  // namespace

std::vector<UsbDevice> collateral(const Snapshot& snap, Method method) {
  const UsbDevice& dev = snap.device;
  std::vector<const UsbDevice*> pool;
  for (const auto* list : {&snap.hub_siblings, &snap.gang_siblings, &snap.controller_devices}) {
    for (const UsbDevice& d : *list) pool.push_back(&d);
  }
  auto hit = [&](const UsbDevice& d) -> bool {
    if (d.sysname == dev.sysname || d.is_root_hub) return false;
    if (is_below_device(d, dev)) return true;
    switch (method) {
      case Method::Device:
      case Method::WarmReset:  // the USB 2.0 half of the connector keeps its link
      case Method::Rebind:
      case Method::Authorize:
        return false;
      case Method::PortPower: {
        if (snap.hub && snap.hub->switching == PowerSwitching::Ganged) {
          for (const UsbDevice& g : snap.gang_siblings)
            if (is_at_or_below(d, g.sysname)) return true;
        }
        // Whatever hangs on the other half of a USB3 connector loses power with it.
        if (snap.port && snap.peer_hub) {
          if (auto n = port_number_of(snap.port->peer_syspath))
            return is_at_or_below(d, child_name(snap.peer_hub->device, *n));
        }
        return false;
      }
      case Method::Hub:
        return std::any_of(snap.hub_siblings.begin(), snap.hub_siblings.end(),
                           [&](const UsbDevice& s) { return s.sysname == d.sysname; });
      case Method::Controller:
        return true;
    }
    return false;
  };
  std::vector<UsbDevice> out;
  for (const UsbDevice* d : pool) {
    if (!hit(*d)) continue;
    bool seen =
        std::any_of(out.begin(), out.end(), [&](const UsbDevice& o) { return o.sysname == d->sysname; });
    if (!seen) out.push_back(*d);
  }
  return out;
}

std::string blocked_by_authorization(const UsbDevice& d) {
  return d.sysname + " is not authorized (authorized = 0): blocked by the USB authorization policy " +
         "(USBGuard, authorized_default or an administrator), which usbrecover does not override";
}

Result<Plan> plan_method(const Snapshot& snap, Method method, const PlanOptions& opts) {
  // Whoever set authorized to 0 decided the device is not to be used; every method would end
  // with the device authorized and its drivers bound (authorize writes 1 itself).
  if (!snap.device.authorized) return refused(blocked_by_authorization(snap.device));
  auto plan = plan_steps(snap, method, opts);
  if (!plan) return plan;
  plan->method = method;
  plan->collateral = collateral(snap, method);
  plan->port_users = port_users(snap);
  return plan;
}

std::vector<std::string> port_users(const Snapshot& snap) {
  std::size_t ttys = 0;
  for (const Interface& i : snap.device.interfaces) ttys += i.ttys.size();
  std::vector<std::string> out;
  if (ttys < 2) return out;
  for (const Interface& i : snap.device.interfaces) {
    for (const TtyPort& t : i.ttys) {
      if (t.name == snap.own_tty || t.users.empty()) continue;
      std::string users;
      for (const auto& u : t.users) users += (users.empty() ? "" : "; ") + u;
      out.push_back(t.name + " of " + snap.device.sysname + " (" + terminal_safe(users) + ")");
    }
  }
  return out;
}

std::string describe_device(const UsbDevice& d) {
  std::string out = d.sysname + " (" + hex4(d.vendor) + ":" + hex4(d.product);
  std::string name = d.manufacturer;
  if (!d.product_name.empty()) name += (name.empty() ? "" : " ") + d.product_name;
  if (!name.empty()) out += " " + terminal_safe(name);  // device strings are hostile input
  if (!d.mounts.empty()) {
    out += ", mounted on ";
    for (std::size_t i = 0; i < d.mounts.size(); ++i) out += (i ? " " : "") + terminal_safe(d.mounts[i]);
  }
  return out + ")";
}

Status refuse_collateral(const Plan& plan, bool allow_collateral) {
  if ((plan.collateral.empty() && plan.port_users.empty()) || allow_collateral) return Ok{};
  std::string names;
  bool mounted = false;
  for (const UsbDevice& d : plan.collateral) {
    names += (names.empty() ? "" : ", ") + describe_device(d);
    mounted = mounted || !d.mounts.empty();
  }
  for (const auto& u : plan.port_users) names += (names.empty() ? "" : ", ") + u;
  std::string reason = "method " + std::string(to_string(plan.method)) + " would also disturb " + names;
  if (mounted) reason += "; a mounted filesystem may lose data";
  reason += " (use --allow-collateral to accept)";
  return refused(std::move(reason));
}

}  // namespace usbrecover
