// SPDX-License-Identifier: MIT
// Benchmark, not a test: `explain --json` latency on a 10-device and a 1,000-device umockdev
// tree, by syspath (as `handle` finds its device) and by selector (which must enumerate).
// Besides the time, the read(2) calls the command made on its own thread (/proc/thread-self/io):
// umockdev answers ioctls on a thread that polls one socket per device of the testbed, so part
// of the time grows with the testbed whatever the command reads; the reads show the command's
// own share.
#include <algorithm>
#include <chrono>
#include <cstdio>
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
};

/// One controller; 7-port hubs in full levels, as few as hold `devices` leaf devices; the
/// leaves filled in order, the UPS last.
Tree build(unsigned devices) {
  Tree t;
  t.bed = std::make_unique<Testbed>();
  auto pci = t.bed->add_pci_controller("0000:00:14.0", "xhci_hcd");
  const HubSpec seven{7, PowerSwitching::PerPort, 100, false, true};
  std::vector<std::string> level = {
      t.bed->add_root_hub(pci, 1, HubSpec{7, PowerSwitching::PerPort, 20, false, true})};
  while (level.size() * 7 < devices) {
    std::vector<std::string> next;
    for (const auto& hub : level)
      for (unsigned port = 1; port <= 7; ++port)
        next.push_back(
            t.bed->add_hub(hub, port, {0x05e3, 0x0608, "", "Hub", "", "480", "2.00", 9, {}, {}}, seven));
    level = std::move(next);
  }
  unsigned made = 0;
  for (const auto& hub : level) {
    for (unsigned port = 1; port <= 7 && made < devices; ++port) {
      bool last = ++made == devices;
      auto d = t.bed->add_device(hub, port,
                                 {static_cast<std::uint16_t>(last ? 0x0665 : 0x1000),
                                  static_cast<std::uint16_t>(last ? 0x5161 : made),
                                  "",
                                  "dev",
                                  "",
                                  "12",
                                  "2.00",
                                  0,
                                  {{0, 3, 0, 0, "usbhid", {}}},
                                  {}});
      if (last) t.ups = d;
    }
  }
  t.mountinfo = t.bed->write_mountinfo("");
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

Figure measure(Tree& t, const Args& args) {
  std::vector<double> ms;
  long per_run = 0;
  for (int i = 0; i < 15; ++i) {
    std::ostringstream out, err;
    Context ctx{out,         err,     "/sys", "/dev", "/nonexistent-state", t.mountinfo, "/run/udev/control",
                "/dev/null", "/proc", ""};
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
  std::printf("%-10s %16s %8s %16s %8s\n", "devices", "by syspath", "reads", "by selector", "reads");
  Figure base_sys{}, base_sel{};
  for (unsigned n : {10u, 1000u}) {
    Tree t = build(n);
    const Figure sys = measure(t, {"--syspath", t.ups, "--json"});
    const Figure sel = measure(t, {"0665:5161", "--json"});
    std::printf("%-10u %13.2f ms %8ld %13.2f ms %8ld\n", n, sys.ms, sys.reads, sel.ms, sel.reads);
    if (n == 10) {
      base_sys = sys;
      base_sel = sel;
    } else {
      std::printf("ratio 1000/10: by syspath %.2fx (reads %.2fx), by selector %.2fx (reads %.2fx)\n",
                  sys.ms / base_sys.ms, static_cast<double>(sys.reads) / static_cast<double>(base_sys.reads),
                  sel.ms / base_sel.ms, static_cast<double>(sel.reads) / static_cast<double>(base_sel.reads));
    }
  }
  return 0;
}
