// SPDX-License-Identifier: MIT
#include "apply.hpp"

#include <dirent.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <ostream>
#include <regex>
#include <set>

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

RuleTargets rule_targets(const std::string& rules_text) {
  static const std::regex id_re(
      R"re(ATTR\{idVendor\}=="([0-9a-f]{4})"(, ATTR\{idProduct\}=="([0-9a-f]{4})")?)re");
  static const std::regex hub_re(R"re(^KERNEL=="([^"]+)", ENV\{USBRECOVER_PORT)re");
  std::set<std::string> ids, hubs;
  std::size_t start = 0;
  while (start < rules_text.size()) {
    auto end = rules_text.find('\n', start);
    if (end == std::string::npos) end = rules_text.size();
    const std::string line = rules_text.substr(start, end - start);
    start = end + 1;
    if (line.starts_with("#")) continue;
    std::smatch m;
    if (std::regex_search(line, m, id_re)) ids.insert(m[1].str() + ":" + (m[3].matched ? m[3].str() : "*"));
    if (std::regex_search(line, m, hub_re)) hubs.insert(m[1].str());
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
  std::vector<std::vector<std::string>> commands = {{tools.udevadm, "control", "--reload"},
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
