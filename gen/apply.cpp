// SPDX-License-Identifier: MIT
#include "apply.hpp"

#include <dirent.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <ostream>
#include <set>
#include <string_view>

extern char** environ;

namespace usbrecover::gen {

namespace {

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

/// Runs argv[0] with the arguments; its exit status, or -1 with `why` when it could not run.
int run_program(const std::vector<std::string>& args, std::string& why) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (int rc = ::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ); rc != 0) {
    why = std::strerror(rc);
    return -1;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      why = std::strerror(errno);
      return -1;
    }
  }
  if (WIFSIGNALED(status)) {
    why = "killed by signal " + std::to_string(WTERMSIG(status));
    return -1;
  }
  return WEXITSTATUS(status);
}

}  // namespace

namespace {

bool hex4(std::string_view s) {
  return s.size() >= 4 && std::all_of(s.begin(), s.begin() + 4, [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

/// The first `ATTR{idVendor}=="vvvv"` in a line, with `, ATTR{idProduct}=="pppp"` right after it
/// if there is one: "vvvv:pppp", or "vvvv:*" for a vendor alone.
std::optional<std::string> id_of_line(std::string_view line) {
  static constexpr std::string_view vendor = "ATTR{idVendor}==\"", product = ", ATTR{idProduct}==\"";
  for (auto at = line.find(vendor); at != std::string_view::npos; at = line.find(vendor, at + 1)) {
    std::string_view rest = line.substr(at + vendor.size());
    if (!hex4(rest) || rest.size() < 5 || rest[4] != '"') continue;
    std::string id = std::string(rest.substr(0, 4)) + ":";
    rest.remove_prefix(5);
    if (rest.starts_with(product) && hex4(rest.substr(product.size())) && rest.size() > product.size() + 4 &&
        rest[product.size() + 4] == '"') {
      return id + std::string(rest.substr(product.size(), 4));
    }
    return id + "*";
  }
  return std::nullopt;
}

/// The id of a hwdb key line, "usb:v0665p5161*" -> "0665:5161", "usb:v06DAp*" -> "06da:*".
std::optional<std::string> id_of_hwdb_key(std::string_view line) {
  if (!line.starts_with("usb:v") || line.size() < 11 || line[9] != 'p' || !line.ends_with('*'))
    return std::nullopt;
  std::string id;
  auto lower = [](std::string_view hex) {
    std::string out(hex);
    for (auto& c : out)
      if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    return out;
  };
  const std::string vendor = lower(line.substr(5, 4));
  if (!hex4(vendor)) return std::nullopt;
  if (line.size() == 11) return vendor + ":*";
  const std::string product = lower(line.substr(10, 4));
  if (line.size() != 15 || !hex4(product)) return std::nullopt;
  return vendor + ":" + product;
}

/// The hub a port entry's line names: `KERNEL=="1-1", ENV{USBRECOVER_PORT...` at its start.
std::optional<std::string> hub_of_line(std::string_view line) {
  static constexpr std::string_view kernel = "KERNEL==\"", port = "\", ENV{USBRECOVER_PORT";
  if (!line.starts_with(kernel)) return std::nullopt;
  line.remove_prefix(kernel.size());
  const auto quote = line.find('"');
  if (quote == 0 || quote == std::string_view::npos || !line.substr(quote).starts_with(port))
    return std::nullopt;
  return std::string(line.substr(0, quote));
}

}  // namespace

RuleTargets rule_targets(const std::string& rules_text) {
  std::set<std::string> ids, hubs;
  std::size_t start = 0;
  while (start < rules_text.size()) {
    auto end = rules_text.find('\n', start);
    if (end == std::string::npos) end = rules_text.size();
    const std::string_view line = std::string_view(rules_text).substr(start, end - start);
    start = end + 1;
    if (line.starts_with("#")) continue;
    if (auto id = id_of_line(line)) ids.insert(*id);
    if (auto id = id_of_hwdb_key(line)) ids.insert(*id);
    if (auto hub = hub_of_line(line)) hubs.insert(*hub);
  }
  return {{ids.begin(), ids.end()}, {hubs.begin(), hubs.end()}};
}

std::vector<std::pair<std::string, std::string>> present_devices(const std::string& sysfs,
                                                                 const RuleTargets& targets) {
  std::vector<std::pair<std::string, std::string>> found;
  const std::string dir = sysfs + "/bus/usb/devices";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return found;
  std::set<std::string> seen;
  while (auto* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.starts_with(".") || name.find(':') != std::string::npos) continue;  // interfaces
    const std::string path = dir + "/" + name;
    const std::string vendor = first_line(path + "/idVendor");
    const std::string product = first_line(path + "/idProduct");
    const std::string id = vendor + ":" + product;
    const bool listed = std::any_of(targets.ids.begin(), targets.ids.end(), [&](const std::string& t) {
      return t == id || (t.ends_with(":*") && t.substr(0, 4) == vendor);
    });
    const bool hub = std::find(targets.hubs.begin(), targets.hubs.end(), name) != targets.hubs.end();
    if ((!listed && !hub) || vendor.empty()) continue;
    char real[4096];
    const std::string target = ::realpath(path.c_str(), real) != nullptr ? std::string(real) : path;
    if (seen.insert(target).second)
      found.emplace_back(target, name + " (" + id + (hub ? ", hub of a port entry" : "") + ")");
  }
  ::closedir(d);
  std::sort(found.begin(), found.end());
  return found;
}

bool reload_and_trigger(const ApplyTools& tools, const std::vector<std::string>& devices, std::ostream& out,
                        std::ostream& err) {
  // The hwdb first: udevd reads hwdb.bin again on the reload.
  std::vector<std::vector<std::string>> commands = {{tools.systemd_hwdb, "--usr", "update"},
                                                    {tools.udevadm, "control", "--reload"},
                                                    {tools.systemctl, "daemon-reload"}};
  if (!devices.empty()) {
    std::vector<std::string> trigger = {tools.udevadm, "trigger", "--action=change", "--settle"};
    trigger.insert(trigger.end(), devices.begin(), devices.end());
    commands.push_back(std::move(trigger));
  }
  bool ok = true;
  for (const auto& c : commands) {
    std::string line;
    for (const auto& a : c) line += (line.empty() ? "" : " ") + a;
    std::string why;
    const int rc = run_program(c, why);
    if (rc == 0) {
      out << "  ran " << line << "\n";
    } else {
      ok = false;
      err << "usbrecover-gen: '" << line << "' "
          << (rc < 0 ? "could not run: " + why : "exited with status " + std::to_string(rc)) << "\n";
    }
  }
  return ok;
}

}  // namespace usbrecover::gen
