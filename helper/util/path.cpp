// SPDX-License-Identifier: MIT
#include "util/path.hpp"

#include <string_view>

namespace usbrecover {

bool is_below(const std::string& path, const std::string& root) {
  if (root.empty() || root.front() != '/') return false;
  std::string prefix = root;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  if (prefix != "/") prefix += '/';
  if (path.size() <= prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return false;
  std::string_view rest(path);
  rest.remove_prefix(prefix.size());
  while (!rest.empty()) {
    auto slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
    if (rest.empty()) return false;  // trailing slash: not an attribute
  }
  return true;
}

}  // namespace usbrecover
