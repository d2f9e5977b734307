// SPDX-License-Identifier: MIT
// `usbrecover dispatch --syspath PATH`: the udev RUN+= entry. Starts usbrecover@<escaped
// devpath>.service without waiting for it and returns at once: udev kills what a RUN program
// leaves behind, and a recovery inside udev's worker would block the device's own events.

#include <ostream>

#include "commands/commands.hpp"
#include "commands/systemctl.hpp"
#include "commands/unit_name.hpp"
#include "util/text.hpp"

namespace usbrecover {

int cmd_dispatch(const Args& args, Context& ctx) {
  std::string syspath;
  bool dry_run = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--syspath" && i + 1 < args.size()) {
      syspath = args[++i];
    } else if (args[i] == "--dry-run") {
      dry_run = true;
    } else if (args[i] == "--help" || args[i] == "-h") {
      ctx.out << "usage: usbrecover dispatch --syspath PATH [--dry-run]\n\n"
                 "Run by the udev rule: starts usbrecover@<device>.service without waiting.\n"
                 "--dry-run prints the systemctl command instead of running it.\n";
      return kExitOk;
    } else {
      ctx.err << "usbrecover: dispatch: unknown argument '" << terminal_safe(args[i]) << "'\n";
      return kExitUsage;
    }
  }
  const std::string prefix = ctx.sysfs_root + "/devices/";
  if (!syspath.starts_with(prefix) || syspath.find("/../") != std::string::npos || syspath.ends_with("/..")) {
    ctx.err << "usbrecover: dispatch: '--syspath' must be a device path below " << prefix << ", not '"
            << terminal_safe(syspath) << "'\n";
    return kExitUsage;
  }
  std::string unit = recover_unit_for(syspath.substr(ctx.sysfs_root.size()));
  if (dry_run) {
    ctx.out << "systemctl --no-block start " << unit << "\n";
    return kExitOk;
  }
  // --no-block: queue the job and return; the recovery runs in its own unit, outside udev.
  if (auto st = run_systemctl({"--no-block", "start", unit}, ctx.systemctl); !st) {
    ctx.err << "usbrecover: dispatch: " << st.error().message() << "\n";
    return kExitSoftware;
  }
  return kExitOk;
}

}  // namespace usbrecover
