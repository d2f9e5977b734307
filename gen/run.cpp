// SPDX-License-Identifier: MIT
#include "run.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>

#include "parse.hpp"
#include "render.hpp"
#include "strings.hpp"
#include "validate.hpp"
#include "write.hpp"

namespace usbrecover::gen {

namespace {

constexpr const char* kUsage =
    "usage: usbrecover-gen [--table FILE]... [--table-dir DIR]\n"
    "                      (--output-dir DIR | --rules-dir DIR --unit-dir DIR [--hwdb-dir DIR] |\n"
    "                       --check | --apply)\n"
    "                      [--helper PATH] [--quiet]\n"
    "\n"
    "Compiles usbrecover device tables into a udev hwdb file, udev rules, systemd units and\n"
    "drop-ins.\n"
    "\n"
    "  --table FILE       read this table (repeatable); without --table and --table-dir the\n"
    "                     shipped table and the local directory are read\n"
    "  --table-dir DIR    read every *.toml in DIR, in version order, after the --table files\n"
    "  --output-dir DIR   write hwdb/, rules/ and units/ below DIR, laid out as they are installed\n"
    "  --rules-dir DIR    write the udev rules file into DIR (e.g. /etc/udev/rules.d)\n"
    "  --hwdb-dir DIR     write the udev hwdb file into DIR; by default the hwdb.d next to a\n"
    "                     --rules-dir ending in rules.d (/etc/udev/rules.d: /etc/udev/hwdb.d)\n"
    "  --unit-dir DIR     write units and drop-ins into DIR (e.g. /etc/systemd/system)\n"
    "  --check            validate the tables and write nothing\n"
    "  --apply            validate, write into /etc/udev/hwdb.d, /etc/udev/rules.d and\n"
    "                     /etc/systemd/system (or --rules-dir and --unit-dir), update the hwdb,\n"
    "                     reload udev and systemd, and trigger a change event on each device\n"
    "                     the tables cover, before and after\n"
    "  --helper PATH      the usbrecover binary the rules and units run\n"
    "  --quiet            print nothing on success\n"
    "\n"
    "Exit status: 0 done, 64 usage, 65 a table has errors, 66 a table cannot be read,\n"
    "69 --apply wrote the files but systemd-hwdb, udevadm or systemctl failed, 73 the output\n"
    "cannot be written. Nothing is written unless every table is valid, and then every file is\n"
    "written or none.\n";

struct Options {
  std::vector<std::string> tables;
  std::optional<std::string> table_dir;
  std::string hwdb_dir;
  std::string rules_dir;
  std::string unit_dir;
  std::string helper;
  bool check = false;
  bool apply = false;
  bool quiet = false;
};

/// A table file's name as read: an entry of `dir` is read in version order.
std::optional<std::vector<std::string>> list_tables(const std::string& dir, bool must_exist,
                                                    std::string& why) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (!must_exist && errno == ENOENT) return names;
    why = std::strerror(errno);
    return std::nullopt;
  }
  while (auto* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > 5 && name.ends_with(".toml") && name[0] != '.') names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return ::strverscmp(a.c_str(), b.c_str()) < 0;
  });
  for (auto& n : names) n = dir + "/" + n;
  return names;
}

/// Reads a table, refusing anything but a regular file under the size limit.
std::optional<std::string> read_table(const std::string& path, std::string& why, bool& too_big) {
  struct stat st {};
  too_big = false;
  if (::stat(path.c_str(), &st) != 0) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    why = "not a regular file";
    return std::nullopt;
  }
  if (static_cast<std::size_t>(st.st_size) > kMaxTableBytes) {
    too_big = true;
    why = "file is " + std::to_string(st.st_size) + " bytes, over the " + std::to_string(kMaxTableBytes) +
          "-byte limit for a table";
    return std::nullopt;
  }
  // Straight into a string of the file's size: a stream would copy the text twice more.
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::ifstream in(path, std::ios::binary);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (in) {  // a file that grew since stat() is read to its end, as before
    std::ostringstream rest;
    rest << in.rdbuf();
    text += rest.str();
  }
  if (in.bad() || (in.fail() && !in.eof())) {
    why = "read error";
    return std::nullopt;
  }
  return text;
}

/// Drop-ins an earlier run generated (under this name or the one before it) for services no longer
/// in the table. Only regular files whose first line is the generated-by header; never a link.
std::vector<std::string> stale_dropins(const std::string& unit_dir, const std::vector<std::string>& keep) {
  std::vector<std::string> stale;
  DIR* d = ::opendir(unit_dir.c_str());
  if (!d) return stale;
  while (auto* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (!name.ends_with(".service.d")) continue;
    for (const char* file : {kDropInName, kOldDropInName}) {
      std::string path = unit_dir + "/" + name + "/" + file;
      if (std::find(keep.begin(), keep.end(), path) != keep.end()) continue;
      struct stat st {};
      if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      std::ifstream in(path);
      std::string first;
      if (in && std::getline(in, first) && first.starts_with("# generated by usbrecover-gen "))
        stale.push_back(path);
    }
  }
  ::closedir(d);
  std::sort(stale.begin(), stale.end());
  return stale;
}

const char* outcome_word(WriteOutcome o) {
  switch (o) {
    case WriteOutcome::Created:
      return "created";
    case WriteOutcome::Updated:
      return "updated";
    case WriteOutcome::Unchanged:
      return "unchanged";
    case WriteOutcome::Removed:
      return "removed";
    case WriteOutcome::Masked:
      return "masked (a link to /dev/null), left as it is:";
  }
  return "";
}

}  // namespace

int run(const std::vector<std::string>& args, const Defaults& defaults, std::ostream& out,
        std::ostream& err) {
  Options o;
  o.helper = defaults.helper_path;
  bool output_dir = false;
  auto usage_error = [&err](const std::string& message) {
    err << "usbrecover-gen: " << message << "\n(see usbrecover-gen --help)\n";
    return kExitUsage;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& into) {
      if (i + 1 >= args.size() || args[i + 1].empty()) return false;
      into = args[++i];
      return true;
    };
    std::string v;
    if (a == "--help" || a == "-h") {
      out << kUsage;
      return kExitOk;
    } else if (a == "--table") {
      if (!value(v)) return usage_error("'--table' needs a file");
      o.tables.push_back(v);
    } else if (a == "--table-dir") {
      if (!value(v)) return usage_error("'--table-dir' needs a directory");
      o.table_dir = v;
    } else if (a == "--output-dir") {
      if (!value(v)) return usage_error("'--output-dir' needs a directory");
      output_dir = true;
      o.hwdb_dir = v + "/hwdb";
      o.rules_dir = v + "/rules";
      o.unit_dir = v + "/units";
    } else if (a == "--rules-dir") {
      if (!value(o.rules_dir)) return usage_error("'--rules-dir' needs a directory");
    } else if (a == "--hwdb-dir") {
      if (!value(o.hwdb_dir)) return usage_error("'--hwdb-dir' needs a directory");
    } else if (a == "--unit-dir") {
      if (!value(o.unit_dir)) return usage_error("'--unit-dir' needs a directory");
    } else if (a == "--helper") {
      // The path lands in RUN+= and Exec lines: keep it to characters neither udev nor systemd
      // interpret (no spaces, quotes, '$' or '%').
      bool plain =
          value(o.helper) && o.helper[0] == '/' && std::all_of(o.helper.begin(), o.helper.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   std::string_view("/._+-").find(c) != std::string_view::npos;
          });
      if (!plain) return usage_error("'--helper' needs an absolute path of letters, digits and / . _ + -");
    } else if (a == "--check") {
      o.check = true;
    } else if (a == "--apply") {
      o.apply = true;
    } else if (a == "--quiet" || a == "-q") {
      o.quiet = true;
    } else {
      return usage_error("unknown argument " + quoted(a));
    }
  }
  if (o.apply && o.check) return usage_error("'--apply' and '--check' exclude each other");
  // --apply reloads the live udev and systemd: only for directories they read.
  if (o.apply && output_dir) return usage_error("'--apply' and '--output-dir' exclude each other");
  if (o.apply) {
    if (o.rules_dir.empty() != o.unit_dir.empty())
      return usage_error("'--apply' takes both --rules-dir and --unit-dir, or neither (/etc)");
    if (o.rules_dir.empty()) {
      o.rules_dir = defaults.apply_rules_dir;
      o.unit_dir = defaults.apply_unit_dir;
    }
  }
  if (!o.check && (o.rules_dir.empty() || o.unit_dir.empty()))
    return usage_error(
        "nothing to do: give --output-dir DIR, both --rules-dir and --unit-dir, --check or --apply");
  if (!o.check && o.hwdb_dir.empty()) {
    // udev's layout: rules.d and hwdb.d side by side (/etc/udev, /lib/udev).
    std::string_view rules(o.rules_dir);
    while (rules.size() > 1 && rules.ends_with('/')) rules.remove_suffix(1);
    if (rules != "rules.d" && !rules.ends_with("/rules.d"))
      return usage_error("'--rules-dir' " + quoted(o.rules_dir) +
                         " does not end in rules.d; give --hwdb-dir for the hwdb file");
    o.hwdb_dir = std::string(rules.substr(0, rules.size() - 7)) + "hwdb.d";
  }

  // Which files, in which order.
  std::vector<std::string> files = o.tables;
  std::string why;
  if (o.tables.empty() && !o.table_dir) {
    files.push_back(defaults.shipped_table);
    auto local = list_tables(defaults.local_table_dir, false, why);
    if (!local) {
      err << "usbrecover-gen: cannot read '" << defaults.local_table_dir << "': " << why << "\n";
      return kExitNoInput;
    }
    files.insert(files.end(), local->begin(), local->end());
  } else if (o.table_dir) {
    auto listed = list_tables(*o.table_dir, true, why);
    if (!listed) {
      err << "usbrecover-gen: cannot read '" << *o.table_dir << "': " << why << "\n";
      return kExitNoInput;
    }
    files.insert(files.end(), listed->begin(), listed->end());
  }

  // File names end up in comments and properties of the output; keep them to one clean line.
  for (const auto& f : files) {
    if (auto bad = check_text(f, 4096); !bad.empty()) {
      err << "usbrecover-gen: table path " << quoted(f) << " " << bad << "\n";
      return kExitNoInput;
    }
  }

  // Parse and validate every file, then report every problem at once.
  Diagnostics diags;
  std::vector<std::vector<DeviceRule>> parsed;
  for (const auto& f : files) {
    bool too_big = false;
    auto text = read_table(f, why, too_big);
    if (!text) {
      if (too_big) {
        diags.push_back({Location{f, 1, 1}, why});
        continue;
      }
      err << "usbrecover-gen: cannot read " << quoted(f) << ": " << why << "\n";
      return kExitNoInput;
    }
    Diagnostics file_diags;
    if (auto root = parse_toml(*text, f, file_diags)) parsed.push_back(validate_file(*root, file_diags));
    std::stable_sort(file_diags.begin(), file_diags.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return std::tie(a.where.line, a.where.column) < std::tie(b.where.line, b.where.column);
    });
    diags.insert(diags.end(), file_diags.begin(), file_diags.end());
  }
  if (!diags.empty()) {
    for (const auto& d : diags) err << d.str() << "\n";
    return kExitData;
  }

  Table table = merge(files, std::move(parsed));
  if (auto port_diags = check_ports(table); !port_diags.empty()) {
    for (const auto& d : port_diags) err << d.str() << "\n";
    return kExitData;
  }
  std::string sources;
  for (const auto& f : files) sources += (sources.empty() ? "" : ", ") + f;
  if (o.check) {
    if (!o.quiet)
      out << "usbrecover-gen: " << table.rules.size() << " device ids from " << sources << ": no problems\n";
    return kExitOk;
  }

  std::vector<FileChange> changes;
  std::vector<std::string> written;
  // --apply triggers the devices the old hwdb and rules covered too (an entry taken out loses its
  // properties), so read them before they are replaced.
  std::string old_udev, new_udev;
  for (auto& f : render(table, RenderOptions{o.helper, defaults.state_dir})) {
    const std::string& dir = f.dir == OutputFile::Dir::Hwdb    ? o.hwdb_dir
                             : f.dir == OutputFile::Dir::Rules ? o.rules_dir
                                                               : o.unit_dir;
    std::string path = dir + "/" + f.name;
    if (o.apply && f.dir != OutputFile::Dir::Units) {
      std::ifstream old(path);
      std::ostringstream text;
      text << old.rdbuf();
      old_udev += text.str() + "\n";
      new_udev += f.content + "\n";
    }
    written.push_back(path);
    changes.push_back({path, std::move(f.content), false});
  }
  for (auto& path : stale_dropins(o.unit_dir, written)) changes.push_back({path, "", true});

  auto report = write_all(changes);
  if (!report) {
    err << "usbrecover-gen: " << report.error().message() << " (nothing was changed)\n";
    return kExitCantCreat;
  }
  if (!o.quiet || o.apply) {
    out << "usbrecover-gen: " << table.rules.size() << " device ids from " << sources << "\n";
    bool changed = false;
    for (const auto& [path, outcome] : report->files) {
      if (o.apply && outcome == WriteOutcome::Unchanged) continue;  // --apply says what changed
      changed = true;
      out << "  " << outcome_word(outcome) << " " << path << "\n";
    }
    if (o.apply && !changed)
      out << "  no file changed in " << o.hwdb_dir << ", " << o.rules_dir << " or " << o.unit_dir << "\n";
  }
  if (!o.apply) return kExitOk;

  RuleTargets targets = rule_targets(old_udev);
  const RuleTargets now = rule_targets(new_udev);
  targets.ids.insert(targets.ids.end(), now.ids.begin(), now.ids.end());
  targets.hubs.insert(targets.hubs.end(), now.hubs.begin(), now.hubs.end());
  std::vector<std::string> devices;
  for (const auto& [path, what] : present_devices(defaults.tools.sysfs, targets)) {
    devices.push_back(path);
    out << "  device " << what << "\n";
  }
  if (devices.empty()) out << "  no device the tables cover is plugged in\n";
  return reload_and_trigger(defaults.tools, devices, out, err) ? kExitOk : kExitUnavailable;
}

}  // namespace usbrecover::gen
