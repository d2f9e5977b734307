// SPDX-License-Identifier: MIT
// `usbrecover repair`: performs the undo of every intent an earlier run left behind.

#include <cerrno>
#include <ostream>

#include "act/effects_linux.hpp"
#include "act/intent.hpp"
#include "commands/commands.hpp"

namespace usbrecover {

namespace {

void repair_usage(std::ostream& os) {
  os << "usage: usbrecover repair\n\n"
        "Turns back on whatever an interrupted recovery left off (a port disabled or unpowered,\n"
        "a device deauthorized, a driver unbound), from the intents under the state directory.\n";
}

}  // namespace

int cmd_repair(const Args& args, Context& ctx) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      repair_usage(ctx.out);
      return kExitOk;
    }
    ctx.err << "usbrecover: repair: unexpected argument '" << a << "'\n";
    repair_usage(ctx.err);
    return kExitUsage;
  }
  LinuxEffects fx(ctx.sysfs_root, ctx.dev_root);
  auto items = repair_intents(ctx.state_dir, fx, Roots{ctx.sysfs_root, ctx.dev_root});
  if (!items) {
    ctx.err << "usbrecover: repair: " << items.error().message() << '\n';
    return items.error().errnum == EACCES || items.error().errnum == EPERM ? kExitNoPerm : kExitFailed;
  }
  int rc = kExitOk;
  for (const RepairItem& it : *items) {
    std::string what = it.undo + (it.device.empty() ? "" : " (" + it.device + ")");
    switch (it.status) {
      case RepairItem::Status::Restored:
        ctx.out << "restored: " << what << '\n';
        break;
      case RepairItem::Status::Gone:
        ctx.out << "gone: " << what << ": no longer present, nothing to restore\n";
        break;
      case RepairItem::Status::Failed:
        ctx.err << "usbrecover: repair: " << what << ": " << it.error.message() << '\n';
        rc = kExitFailed;
        break;
      case RepairItem::Status::Busy:
        ctx.out << "busy: " << it.file << ": a recovery is still running, left to it\n";
        break;
      case RepairItem::Status::Invalid:
        ctx.err << "usbrecover: repair: " << it.error.message() << ", ignoring\n";
        break;
    }
  }
  return rc;
}

}  // namespace usbrecover
