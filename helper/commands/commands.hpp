// SPDX-License-Identifier: MIT
#pragma once

// The subcommands of `usbrecover`. Each lives in its own cmd_*.cpp, takes its arguments (after
// the subcommand name) and a Context, prints to ctx.out/ctx.err, and returns a sysexits code.
// Only these functions print; the code below them returns Result/Error.

#include <iosfwd>
#include <string>
#include <vector>

namespace usbrecover {

/// Exit codes (sysexits.h where one fits).
enum Exit : int {
  kExitOk = 0,         ///< recovered and verified / command succeeded
  kExitFailed = 1,     ///< the method ran but the device did not come back healthy
  kExitUsage = 64,     ///< EX_USAGE: a wrong argument
  kExitData = 65,      ///< EX_DATAERR: bad input data
  kExitNotFound = 69,  ///< EX_UNAVAILABLE: no such device
  kExitSoftware = 70,  ///< EX_SOFTWARE: an internal error
  kExitRefused = 73,   ///< refused for safety (collateral, rate limit)
  kExitTempFail = 75,  ///< EX_TEMPFAIL: another recovery of the device is in progress
  kExitNoPerm = 77,    ///< EX_NOPERM: permission denied
};

/// Where a command reads and writes. Roots are here, never globals, so tests can move them.
struct Context {
  std::ostream& out;
  std::ostream& err;
  std::string sysfs_root = "/sys";
  std::string dev_root = "/dev";
  std::string state_dir;  ///< defaults to USBRECOVER_STATE_DIR
  std::string mountinfo = "/proc/self/mountinfo";
  std::string udev_control = "/run/udev/control";  ///< udevd's control socket: is udevd running?
  std::string swaps = "/proc/swaps";               ///< active swap areas, counted as mounts
  std::string proc_root = "/proc";                 ///< who holds a multi-port adapter's ttys open
  std::string systemctl;                           ///< the systemctl to run; empty: the system's
};

using Args = std::vector<std::string>;

int cmd_list(const Args& args, Context& ctx);
int cmd_tree(const Args& args, Context& ctx);
int cmd_reset(const Args& args, Context& ctx);
int cmd_repair(const Args& args, Context& ctx);
int cmd_explain(const Args& args, Context& ctx);
int cmd_dispatch(const Args& args, Context& ctx);
int cmd_handle(const Args& args, Context& ctx);
int cmd_watch(const Args& args, Context& ctx);
int cmd_handover(const Args& args, Context& ctx);

}  // namespace usbrecover
