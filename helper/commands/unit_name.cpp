// SPDX-License-Identifier: MIT
#include "commands/unit_name.hpp"

#include <cstdio>

namespace usbrecover {

std::string escape_path(std::string_view path) {
  // Collapse repeated slashes and drop the outer ones.
  std::string simple;
  for (char c : path) {
    if (c == '/' && (simple.empty() || simple.back() == '/')) continue;
    simple += c;
  }
  while (!simple.empty() && simple.back() == '/') simple.pop_back();
  if (simple.empty()) return "-";
  std::string out;
  for (std::size_t i = 0; i < simple.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(simple[i]);
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
                 c == '_' || (c == '.' && i > 0);
    if (c == '/') {
      out += '-';
    } else if (plain) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

std::string recover_unit_for(std::string_view devpath) {
  return "usbrecover@" + escape_path(devpath) + ".service";
}

}  // namespace usbrecover
