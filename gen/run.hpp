// SPDX-License-Identifier: MIT
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "apply.hpp"

namespace usbrecover::gen {

/// Exit codes (sysexits.h).
enum Exit : int {
  kExitOk = 0,
  kExitUsage = 64,        ///< EX_USAGE: a wrong argument
  kExitData = 65,         ///< EX_DATAERR: a table has errors
  kExitNoInput = 66,      ///< EX_NOINPUT: a table cannot be read
  kExitUnavailable = 69,  ///< EX_UNAVAILABLE: --apply wrote the files, but a program it runs failed
  kExitCantCreat = 73,    ///< EX_CANTCREAT: the output cannot be written
};

/// Built-in locations, overridable for tests.
struct Defaults {
  std::string shipped_table;    ///< read when no --table is given
  std::string local_table_dir;  ///< read when no --table is given; may be missing
  std::string helper_path;
  std::string state_dir;
  /// Where --apply writes (an administrator's directories, ahead of the packaged files); the
  /// hwdb file goes into the hwdb.d next to the rules directory.
  std::string apply_rules_dir = "/etc/udev/rules.d";
  std::string apply_unit_dir = "/etc/systemd/system";
  ApplyTools tools = {"/usr/bin/systemd-hwdb", "/usr/bin/udevadm", "/usr/bin/systemctl", "/sys"};
};

/// The whole of usbrecover-gen: arguments in, files out, messages to `out`/`err`, exit code back.
int run(const std::vector<std::string>& args, const Defaults& defaults, std::ostream& out, std::ostream& err);

}  // namespace usbrecover::gen
