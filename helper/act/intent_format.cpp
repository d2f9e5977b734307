// SPDX-License-Identifier: MIT
#include "act/intent_format.hpp"

#include <algorithm>
#include <vector>

#include "util/path.hpp"

namespace usbrecover {

namespace {

Error plain(std::string object, std::string reason) {
  return Error{.context = {}, .object = std::move(object), .reason = std::move(reason), .errnum = 0};
}

bool valid_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
           c == '.' || c == '-' || c == '_';
  });
}

std::string last_component(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

}  // namespace

std::string format_intent(std::string_view device, std::string_view undo_line) {
  return std::string(kIntentMagic) + "\ndevice " + std::string(device) + "\nundo " + std::string(undo_line) +
         "\n";
}

std::optional<ParsedIntent> parse_intent(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    auto nl = text.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;  // a whole file ends with a newline
    lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  if (lines.size() != 3 || lines[0] != kIntentMagic) return std::nullopt;
  if (!lines[1].starts_with("device ") || !lines[2].starts_with("undo ")) return std::nullopt;
  ParsedIntent p;
  p.device = std::string(lines[1].substr(7));
  p.line = std::string(lines[2].substr(5));
  auto undo = parse_action(p.line);
  if (!undo) return std::nullopt;
  p.undo = std::move(*undo);
  return p;
}

Status validate_undo(const Action& undo, const Roots& roots) {
  std::string line = to_string(undo);
  switch (undo.kind) {
    case Action::Kind::WriteSysfs: {
      if (!is_below(undo.target, roots.sysfs)) return plain(line, "path is not below '" + roots.sysfs + "'");
      std::string attr = last_component(undo.target);
      if (attr == "authorized" && undo.value == "1") return Ok{};
      if (attr == "disable" && undo.value == "0") return Ok{};
      if (attr == "bind" && valid_name(undo.value) && undo.target.find("/drivers/") != std::string::npos) {
        return Ok{};
      }
      return plain(line, "not an undo usbrecover writes");
    }
    case Action::Kind::PortPower: {
      std::string prefix = roots.dev + "/bus/usb/";
      auto digits = [](std::string_view s) {
        return s.size() == 3 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
      };
      std::string_view rest(undo.target);
      bool node = is_below(undo.target, roots.dev) && rest.starts_with(prefix) &&
                  rest.size() == prefix.size() + 7 && digits(rest.substr(prefix.size(), 3)) &&
                  rest[prefix.size() + 3] == '/' && digits(rest.substr(prefix.size() + 4, 3));
      if (!node) return plain(line, "not a usbfs node below '" + roots.dev + "'");
      if (!undo.on) return plain(line, "an undo never turns power off");
      return Ok{};
    }
    case Action::Kind::ResetDevice:
    case Action::Kind::Pause:
    case Action::Kind::WarmReset:  // turns nothing off: never an undo
      break;
  }
  return plain(line, "not an undo usbrecover writes");
}

}  // namespace usbrecover
