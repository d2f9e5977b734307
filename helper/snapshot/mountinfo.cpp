// SPDX-License-Identifier: MIT
#include "snapshot/mountinfo.hpp"

#include <charconv>

namespace usbrecover {

namespace {

// The kernel escapes space, tab, newline and backslash in paths as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const auto oct = s.substr(i + 1, 3);
      bool ok = true;
      unsigned v = 0;
      for (char c : oct) {
        if (c < '0' || c > '7') ok = false;
        v = v * 8 + static_cast<unsigned>(c - '0');
      }
      if (ok && v < 256) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> f;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) f.push_back(line.substr(start, i - start));
  }
  return f;
}

bool parse_uint(std::string_view s, unsigned& v) {
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

MountTable parse_mountinfo(std::string_view text) {
  MountTable table;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    const auto f = fields_of(line);
    if (f.size() < 5) continue;
    const auto colon = f[2].find(':');
    unsigned major = 0;
    unsigned minor = 0;
    if (colon == std::string_view::npos || !parse_uint(f[2].substr(0, colon), major) ||
        !parse_uint(f[2].substr(colon + 1), minor)) {
      continue;
    }
    table[{major, minor}].push_back(unescape(f[4]));
  }
  return table;
}

std::vector<BtrfsMount> parse_btrfs_mounts(std::string_view text) {
  std::vector<BtrfsMount> out;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    const auto f = fields_of(line);
    // ID PARENT MAJ:MIN ROOT MOUNT-POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER-OPTIONS
    std::size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (f.size() < 5 || dash + 2 >= f.size() || f[dash + 1] != "btrfs") continue;
    out.push_back({unescape(f[dash + 2]), unescape(f[4])});
  }
  return out;
}

std::vector<std::string> parse_swaps(std::string_view text) {
  std::vector<std::string> out;
  bool header = true;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (header) {  // "Filename Type Size Used Priority"
      header = false;
      continue;
    }
    // The kernel separates the columns with tabs and escapes white space in the name.
    std::string spaced(line);
    for (char& c : spaced)
      if (c == '\t') c = ' ';
    const auto f = fields_of(spaced);
    if (f.size() >= 2 && f[1] == "partition") out.push_back(unescape(f[0]));
  }
  return out;
}

}  // namespace usbrecover
