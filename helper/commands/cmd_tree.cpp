// SPDX-License-Identifier: MIT
// `usbrecover tree [--json]`: the USB topology like `lsusb -t`, with each hub's power switching
// (from its hub descriptor) and the status of every port, empty ones included.

#include <charconv>
#include <cstdio>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "commands/cmd_all_devices.hpp"
#include "commands/commands.hpp"
#include "snapshot/snapshot_json.hpp"
#include "snapshot/snapshot_reader.hpp"
#include "snapshot/sysfs.hpp"
#include "util/json.hpp"
#include "util/text.hpp"

namespace usbrecover {

namespace {

constexpr const char* kTreeHelp =
    "usage: usbrecover tree [--json]\n"
    "\n"
    "Shows every bus and the devices on it, port by port, like `lsusb -t`. Each hub shows its\n"
    "port count and power switching (per-port, ganged, none, or unknown with the reason: reading\n"
    "the hub descriptor needs write access to the hub's /dev/bus/usb node), each port whether it\n"
    "is empty, disabled (the kernel's port `disable` attribute) or hardwired.\n"
    "\n"
    "  --json   one JSON object {\"buses\": [...]} instead of the tree\n"
    "  --help   this text\n";

// One hub port with whatever is plugged into it.
struct PortSlot {
  Port port;
  const UsbDevice* device = nullptr;
};

class TreeWriter {
 public:
  TreeWriter(SnapshotReader& reader, const std::vector<UsbDevice>& devices) : reader_(reader) {
    for (const auto& d : devices) {
      if (!d.is_root_hub) children_[sysfs::dirname(d.syspath)].push_back(&d);
    }
  }

  // The ports of `hub`: its port directories plus any child whose port has no directory.
  std::vector<PortSlot> slots(const UsbDevice& hub) {
    std::map<unsigned, PortSlot> by_number;
    for (auto& p : reader_.ports(hub)) by_number[p.number].port = std::move(p);
    for (const UsbDevice* child : children_[hub.syspath]) {
      const auto sep = child->sysname.find_last_of(".-");
      unsigned n = 0;
      const std::string num = sep == std::string::npos ? "" : child->sysname.substr(sep + 1);
      std::from_chars(num.data(), num.data() + num.size(), n);
      auto& slot = by_number[n];
      slot.port.number = n;
      slot.device = child;
    }
    std::vector<PortSlot> out;
    for (auto& [n, slot] : by_number) out.push_back(std::move(slot));
    return out;
  }

  void text(std::ostream& out, const UsbDevice& dev, const std::string& indent) {
    out << summary(dev);
    if (dev.is_hub) {
      const Hub h = reader_.hub(dev);
      if (h.descriptor_error.empty()) {
        out << ", " << h.nports << " ports, power " << to_string(h.switching);
      } else {
        out << ", power unknown (" << terminal_safe(h.descriptor_error) << ")";
      }
    }
    out << describe(dev) << '\n';
    if (!dev.is_hub) return;
    for (const auto& slot : slots(dev)) {
      out << indent << "|__ Port " << slot.port.number << ": ";
      std::string notes;
      if (slot.port.disabled.value_or(false)) notes += ", disabled";
      if (slot.port.connect_type == "hardwired") notes += ", hardwired";
      if (!slot.port.peer_syspath.empty())
        notes += ", peer " + terminal_safe(sysfs::basename(slot.port.peer_syspath));
      if (slot.device == nullptr) {
        out << "empty" << notes << '\n';
        continue;
      }
      if (!notes.empty()) out << '[' << notes.substr(2) << "] ";
      text(out, *slot.device, indent + "    ");
    }
  }

  void json(JsonWriter& w, const UsbDevice& dev) {
    w.begin_object();
    w.key("device");
    write_json(w, dev);
    w.key("hub");
    if (!dev.is_hub) {
      w.null();
      w.end_object();
      return;
    }
    write_hub_json(w, reader_.hub(dev));
    w.key("ports").begin_array();
    for (const auto& slot : slots(dev)) {
      w.begin_object();
      w.key("port");
      write_json(w, slot.port);
      w.key("device");
      if (slot.device != nullptr) {
        json(w, *slot.device);
      } else {
        w.null();
      }
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }

 private:
  static std::string summary(const UsbDevice& d) {
    std::string s = terminal_safe(d.port_path) + " " + hex4(d.vendor) + ":" + hex4(d.product);
    if (!d.speed.empty()) s += " " + terminal_safe(d.speed) + "M";
    std::string drivers;
    for (const auto& i : d.interfaces) {
      if (!i.driver.empty() && drivers.find(i.driver) == std::string::npos) {
        drivers += (drivers.empty() ? "" : ",") + i.driver;
      }
    }
    if (!drivers.empty()) s += " " + terminal_safe(drivers);
    return s;
  }

  static std::string describe(const UsbDevice& d) {
    std::string name = d.manufacturer;
    if (!d.product_name.empty()) name += (name.empty() ? "" : " ") + d.product_name;
    std::string s;
    if (!name.empty()) s += " \"" + terminal_safe(name) + "\"";
    if (!d.table_name.empty()) s += " entry " + terminal_safe(d.table_name);
    if (!d.authorized) s += " [deauthorized]";
    return s;
  }

  SnapshotReader& reader_;
  std::map<std::string, std::vector<const UsbDevice*>> children_;
};

}  // namespace

int cmd_tree(const Args& args, Context& ctx) {
  int exit = kExitOk;
  auto all = read_all_devices("tree", kTreeHelp, args, ctx, exit);
  if (!all) return exit;
  SnapshotReader* reader = &all->reader;
  std::vector<UsbDevice>* devices = &all->devices;
  const bool json = all->json;
  TreeWriter tree(*reader, *devices);
  if (json) {
    JsonWriter w(ctx.out);
    w.begin_object().key("buses").begin_array();
    for (const auto& d : *devices) {
      if (!d.is_root_hub) continue;
      w.begin_object().field("bus", d.busnum).key("controller");
      if (auto c = reader->controller(d)) {
        write_json(w, *c);
      } else {
        w.null();
      }
      w.key("root");
      tree.json(w, d);
      w.end_object();
    }
    w.end_array().end_object();
    return kExitOk;
  }
  for (const auto& d : *devices) {
    if (!d.is_root_hub) continue;
    char bus[16];
    std::snprintf(bus, sizeof bus, "%03u", d.busnum);
    ctx.out << "/: Bus " << bus;
    if (auto c = reader->controller(d)) {
      ctx.out << " [" << terminal_safe(c->name) << ' ' << terminal_safe(c->driver.empty() ? "-" : c->driver)
              << ']';
    }
    ctx.out << ' ';
    tree.text(ctx.out, d, "    ");
  }
  return kExitOk;
}

}  // namespace usbrecover
