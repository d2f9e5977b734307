// SPDX-License-Identifier: MIT
#pragma once

// Pure functions from a validated table to the text of every generated file.

#include <string>
#include <vector>

#include "table.hpp"

namespace usbrecover::gen {

inline constexpr const char* kRulesName = "70-usbrecover.rules";
/// Sorts with the rules that read its properties; udev's hwdb.d directories.
inline constexpr const char* kHwdbName = "70-usbrecover.hwdb";
/// The drop-in's name sorts before an administrator's own ("override.conf", "timeout.conf"), so
/// their settings win over ours (TimeoutStartSec=, see render_dropin).
inline constexpr const char* kDropInName = "10-usbrecover.conf";
/// The name earlier versions used; a generated file of that name is removed as stale.
inline constexpr const char* kOldDropInName = "usbrecover.conf";

/// Paths and names baked into the output.
struct RenderOptions {
  std::string helper_path;  ///< absolute path of the usbrecover binary
  std::string state_dir;    ///< where the helper keeps its state (/run/usbrecover)
};

/// One generated file, relative to the hwdb, the rules or the unit directory.
struct OutputFile {
  enum class Dir { Hwdb, Rules, Units };
  Dir dir = Dir::Rules;
  std::string name;  ///< "70-usbrecover.rules", "nut-driver@.service.d/10-usbrecover.conf"
  std::string content;

  friend bool operator==(const OutputFile&, const OutputFile&) = default;
};

/// The udev rules file: a rule per entry that matches on strings, a serial or a port, and the
/// same few lines for every entry the hwdb carries, however many there are.
std::string render_rules(const Table& table, const RenderOptions& options);
/// Which of table.rules the hwdb carries (the others keep a rule): an entry that matches on its
/// ids alone, unless a value of it holds what hwdb cannot (a '#', read as a comment anywhere on a
/// line, or trailing blanks, dropped) or its vendor's wildcard keeps a rule, which the product's
/// entry must then follow to win over it.
std::vector<bool> in_hwdb(const Table& table);
/// The hwdb file: every entry that matches on its ids alone, as udev properties keyed by
/// "usb:vVVVVpPPPP*", a vendor's wildcard before its products.
std::string render_hwdb(const Table& table);
/// The drop-in for one service, covering every rule that names it.
std::string render_dropin(const Table& table, const std::string& service, const RenderOptions& options);
/// Every file: the hwdb, the rules, usbrecover@.service, usbrecover-repair.service,
/// usbrecover-watch.service, usbrecover-handover.socket and usbrecover-handover@.service, and one drop-in per
/// service named in the table, sorted by directory and name.
std::vector<OutputFile> render(const Table& table, const RenderOptions& options);

}  // namespace usbrecover::gen
