// SPDX-License-Identifier: MIT
// `usbrecover list [--json]`: every USB device with its ids, place, speed, strings, drivers and
// the table entry udev matched it to.

#include <algorithm>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "commands/cmd_all_devices.hpp"
#include "commands/commands.hpp"
#include "snapshot/snapshot_json.hpp"
#include "snapshot/snapshot_reader.hpp"
#include "util/json.hpp"
#include "util/text.hpp"

namespace usbrecover {

namespace {

constexpr const char* kListHelp =
    "usage: usbrecover list [--json]\n"
    "\n"
    "Lists every USB device: port path, bus/device number, vendor:product, speed, the drivers\n"
    "bound to its interfaces, the usbrecover table entry that matches it (from udev), and its\n"
    "strings. Device strings are shown with control characters escaped.\n"
    "\n"
    "  --json   one JSON object {\"devices\": [...]} instead of the table\n"
    "  --help   this text\n";

std::string drivers_of(const UsbDevice& d) {
  std::vector<std::string> names;
  for (const auto& i : d.interfaces) {
    if (!i.driver.empty() && std::find(names.begin(), names.end(), i.driver) == names.end()) {
      names.push_back(i.driver);
    }
  }
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out.empty() ? "-" : terminal_safe(out);
}

std::string description_of(const UsbDevice& d) {
  std::string s = d.manufacturer;
  if (!d.product_name.empty()) s += (s.empty() ? "" : " ") + d.product_name;
  s = terminal_safe(s);
  if (!d.serial.empty())
    s += (s.empty() ? "" : " ") + std::string("serial '") + terminal_safe(d.serial) + "'";
  if (!d.authorized) s += " [deauthorized]";
  for (const auto& m : d.mounts) s += " [mounted on " + terminal_safe(m) + "]";
  return s;
}

std::string entry_of(const UsbDevice& d) {
  if (d.table_name.empty()) return "-";
  std::string s = terminal_safe(d.table_name);
  if (!d.table_source.empty()) s += " (" + terminal_safe(d.table_source) + ")";
  return s;
}

void print_table(std::ostream& out, const std::vector<UsbDevice>& devices) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"PORT", "BUS/DEV", "ID", "SPEED", "DRIVERS", "TABLE ENTRY", "DEVICE"});
  for (const auto& d : devices) {
    char busdev[16];
    std::snprintf(busdev, sizeof busdev, "%03u/%03u", d.busnum, d.devnum);
    rows.push_back({terminal_safe(d.port_path), busdev, hex4(d.vendor) + ":" + hex4(d.product),
                    d.speed.empty() ? "-" : terminal_safe(d.speed) + "M", drivers_of(d), entry_of(d),
                    description_of(d)});
  }
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& r : rows) {
    for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  }
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t c = 0; c < r.size(); ++c) {
      line += r[c];
      if (c + 1 < r.size()) line += std::string(width[c] - r[c].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  }
}

}  // namespace

int cmd_list(const Args& args, Context& ctx) {
  int exit = kExitOk;
  auto all = read_all_devices("list", kListHelp, args, ctx, exit);
  if (!all) return exit;
  if (all->json) {
    JsonWriter w(ctx.out);
    w.begin_object().key("devices").begin_array();
    for (const auto& d : all->devices) write_json(w, d);
    w.end_array().end_object();
  } else {
    print_table(ctx.out, all->devices);
  }
  return kExitOk;
}

}  // namespace usbrecover
