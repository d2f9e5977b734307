// SPDX-License-Identifier: MIT
#include "util/metrics.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "util/atomic_file.hpp"

namespace usbrecover {

void record_metric(const std::string& state_dir, const std::string& key, const std::string& device,
                   const std::string& id, Method method, bool recovered) {
  std::string dir = state_dir + "/metrics";
  ::mkdir(state_dir.c_str(), 0700);
  ::mkdir(dir.c_str(), 0700);
  std::string path = dir + "/" + key;
  DeviceCounters c;
  std::ifstream in(path);
  if (in) {
    std::ostringstream text;
    text << in.rdbuf();
    if (auto parsed = parse_counters(text.str())) c = *parsed;
  }
  c.device = device;
  c.id = id;
  auto& n = c.by_method[std::string(to_string(method))];
  (recovered ? n.first : n.second) += 1;
  (void)write_atomically(path, format_counters(c), 0600);
}

Status write_metrics_textfile(const std::string& state_dir, const std::string& path) {
  std::vector<DeviceCounters> all;
  std::string dir = state_dir + "/metrics";
  if (DIR* d = ::opendir(dir.c_str())) {
    while (auto* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream in(dir + "/" + e->d_name);
      std::ostringstream text;
      text << in.rdbuf();
      if (auto c = parse_counters(text.str())) all.push_back(*c);
    }
    ::closedir(d);
  }
  // Read by node_exporter's textfile collector, which does not run as root.
  return write_atomically(path, format_prometheus(std::move(all)), 0644);
}

}  // namespace usbrecover
