// SPDX-License-Identifier: MIT
// Benchmark, not a test: `explain --json` latency on a 10-device and a 1,000-device umockdev
// tree, by syspath (as `handle` finds its device) and by selector: through udev's index of the
// table's ids (the tag "usbrecover", which the generated rules give every device whose ids the
// table names; here a directory that lists the UPS, as udev's would), and without it (no udevd,
// or ids the table does not name), where every device's ids are read.
// Besides the time, the read(2) calls the command made on its own thread (/proc/thread-self/io):
// umockdev answers ioctls on a thread that polls one socket per device of the testbed, so part
// of the time grows with the testbed whatever the command reads; the reads show the command's
// own share.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "commands/commands.hpp"
#include "testbed.hpp"

using namespace usbrecover;
using namespace usbrecover::testing;

namespace {

struct Tree {
  std::unique_ptr<Testbed> bed;
  std::string ups;
  std::string mountinfo;
  std::string udev_control;  ///< a directory next to it holds the tag index
};

DeviceSpec leaf(std::uint16_t vendor, std::uint16_t product, bool usbfs) {
  DeviceSpec d{vendor, product, "", "dev", "", "12", "2.00", 0, {{0, 3, 0, 0, "usbhid", {}}}, {}, usbfs};
  return d;
}

/// One controller. The UPS has the same neighbourhood in every tree: port 3 of a 7-port hub on
/// the root hub's port 1, after two other devices, so that both trees ask the same of it and its
/// hub. The other devices fill 7-port hubs below root ports 2 to 7, in full levels, as few as
/// hold them. They have no fake usbfs: explain never opens them, and an attached node would make
/// each ioctl on the UPS's hub cost more only because umockdev polls one socket per node.
Tree build(unsigned devices) {
  Tree t;
  t.bed = std::make_unique<Testbed>();
  auto pci = t.bed->add_pci_controller("0000:00:14.0", "xhci_hcd");
  const HubSpec seven{7, PowerSwitching::PerPort, 100, false, true};
  const DeviceSpec hub_spec{0x05e3, 0x0608, "", "Hub", "", "480", "2.00", 9, {}, {}, true};
  DeviceSpec other_hub = hub_spec;
  other_hub.usbfs = false;
  const auto root = t.bed->add_root_hub(pci, 1, HubSpec{7, PowerSwitching::PerPort, 20, false, true});
  const auto ups_hub = t.bed->add_hub(root, 1, hub_spec, seven);
  t.bed->add_device(ups_hub, 1, leaf(0x1000, 1, false));
  t.bed->add_device(ups_hub, 2, leaf(0x1000, 2, false));
  DeviceSpec ups = leaf(0x0665, 0x5161, true);
  ups.properties = {{"USBRECOVER_TABLE_IDS", "1"}};
  t.ups = t.bed->add_device(ups_hub, 3, ups);
  const unsigned others = devices - 3;
  std::vector<std::string> level;
  for (unsigned port = 2; port <= 7; ++port) level.push_back(t.bed->add_hub(root, port, other_hub, seven));
  while (level.size() * 7 < others) {
    std::vector<std::string> next;
    for (const auto& hub : level)
      for (unsigned port = 1; port <= 7; ++port) next.push_back(t.bed->add_hub(hub, port, other_hub, seven));
    level = std::move(next);
  }
  unsigned made = 0;
  for (const auto& hub : level)
    for (unsigned port = 1; port <= 7 && made < others; ++port) {
      ++made;
      t.bed->add_device(hub, port, leaf(0x1000, static_cast<std::uint16_t>(made + 2), false));
    }
  t.mountinfo = t.bed->write_mountinfo("");
  // udev's tag index as the rules leave it: the UPS alone, named by its node's minor (bus 1).
  char tmpl[] = "/tmp/usbrecover-bench.XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  std::filesystem::create_directories(dir + "/tags/usbrecover");
  const std::string node = t.bed->devnode(t.ups);  // /dev/bus/usb/001/DDD
  const unsigned minor = static_cast<unsigned>(std::stoul(node.substr(17))) - 1;
  std::ofstream(dir + "/tags/usbrecover/c189:" + std::to_string(minor)).flush();
  t.udev_control = dir + "/control";
  return t;
}

/// read(2) calls of this thread so far.
long reads() {
  std::FILE* f = std::fopen("/proc/thread-self/io", "r");
  if (f == nullptr) return -1;
  char line[128];
  long n = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "syscr: %ld", &n) == 1) break;
  }
  std::fclose(f);
  return n;
}

struct Figure {
  double ms;
  long reads;  ///< of one run
};

Figure measure(Tree& t, const Args& args, const std::string& udev_control) {
  std::vector<double> ms;
  long per_run = 0;
  for (int i = 0; i < 15; ++i) {
    std::ostringstream out, err;
    Context ctx{out,         err,          "/sys",      "/dev",  "/nonexistent-state",
                t.mountinfo, udev_control, "/dev/null", "/proc", ""};
    const long before = reads();
    auto start = std::chrono::steady_clock::now();
    int rc = cmd_explain(args, ctx);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    per_run = reads() - before;
    if (rc != 0) std::fprintf(stderr, "explain failed: %s\n", err.str().c_str());
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], per_run};
}

}  // namespace

int main() {
  if (!Testbed::available()) {
    std::fprintf(stderr, "not running under umockdev-wrapper\n");
    return 77;
  }
  std::printf("explain --json latency, median of 15 runs (umockdev testbed); read(2) calls per run\n");
  std::printf("%-8s %11s %6s %16s %6s %16s %6s\n", "devices", "by syspath", "reads", "by ids, index", "reads",
              "by ids, no index", "reads");
  Figure base[3]{};
  for (unsigned n : {10u, 1000u}) {
    Tree t = build(n);
    const Figure f[3] = {measure(t, {"--syspath", t.ups, "--json"}, t.udev_control),
                         measure(t, {"0665:5161", "--json"}, t.udev_control),
                         measure(t, {"0665:5161", "--json"}, "/nonexistent/udev/control")};
    std::printf("%-8u %8.2f ms %6ld %13.2f ms %6ld %13.2f ms %6ld\n", n, f[0].ms, f[0].reads, f[1].ms,
                f[1].reads, f[2].ms, f[2].reads);
    std::filesystem::remove_all(t.udev_control.substr(0, t.udev_control.rfind('/')));
    if (n == 10) {
      std::copy(f, f + 3, base);
      continue;
    }
    const char* names[3] = {"by syspath", "by ids through the index", "by ids without it"};
    std::printf("ratio 1000/10:");
    for (int i = 0; i < 3; ++i)
      std::printf("%s %s %.2fx (reads %.2fx)", i ? ";" : "", names[i], f[i].ms / base[i].ms,
                  static_cast<double>(f[i].reads) / static_cast<double>(base[i].reads));
    std::printf("\n");
  }
  return 0;
}
