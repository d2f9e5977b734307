// SPDX-License-Identifier: MIT
#include "act/action.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

#include "act/effects.hpp"
#include "util/timings.hpp"

namespace usbrecover {

namespace {

bool no_space(std::string_view s) {
  return !s.empty() && s.find_first_of(" \t\r\n") == std::string_view::npos;
}

std::optional<unsigned> parse_uint(std::string_view s) {
  unsigned v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Action write_action(std::string path, std::string value) {
  Action a;
  a.kind = Action::Kind::WriteSysfs;
  a.target = std::move(path);
  a.value = std::move(value);
  return a;
}
Action reset_action(std::string devnode) {
  Action a;
  a.kind = Action::Kind::ResetDevice;
  a.target = std::move(devnode);
  return a;
}
Action port_power_action(std::string hub_devnode, unsigned port, bool on) {
  Action a;
  a.kind = Action::Kind::PortPower;
  a.target = std::move(hub_devnode);
  a.port = port;
  a.on = on;
  return a;
}
Action pause_action(Millis d) {
  Action a;
  a.kind = Action::Kind::Pause;
  a.duration = d;
  return a;
}
Action warm_reset_action(std::string hub_devnode, unsigned port) {
  Action a;
  a.kind = Action::Kind::WarmReset;
  a.target = std::move(hub_devnode);
  a.port = port;
  return a;
}

std::string to_string(const Action& a) {
  switch (a.kind) {
    case Action::Kind::WriteSysfs:
      return "write " + a.target + " " + a.value;
    case Action::Kind::ResetDevice:
      return "reset " + a.target;
    case Action::Kind::PortPower:
      return "port-power " + a.target + " " + std::to_string(a.port) + (a.on ? " on" : " off");
    case Action::Kind::Pause:
      return "pause " + format_duration(a.duration);
    case Action::Kind::WarmReset:
      return "warm-reset " + a.target + " " + std::to_string(a.port);
  }
  return {};
}

std::optional<Action> parse_action(std::string_view line) {
  // Split on every single space, keeping empty words, so that "a  b" and "a b " are rejected.
  std::vector<std::string_view> words;
  for (;;) {
    auto sp = line.find(' ');
    words.push_back(line.substr(0, sp));
    if (sp == std::string_view::npos) break;
    line.remove_prefix(sp + 1);
  }
  if (words.empty() || !std::all_of(words.begin(), words.end(), no_space)) return std::nullopt;
  const auto verb = words[0];
  if (verb == "write" && words.size() == 3) return write_action(std::string(words[1]), std::string(words[2]));
  if (verb == "reset" && words.size() == 2) return reset_action(std::string(words[1]));
  if (verb == "port-power" && words.size() == 4 && (words[3] == "on" || words[3] == "off")) {
    auto port = parse_uint(words[2]);
    if (!port || *port == 0 || *port > 255) return std::nullopt;
    return port_power_action(std::string(words[1]), *port, words[3] == "on");
  }
  if (verb == "warm-reset" && words.size() == 3) {
    auto port = parse_uint(words[2]);
    if (!port || *port == 0 || *port > 255) return std::nullopt;
    return warm_reset_action(std::string(words[1]), *port);
  }
  if (verb == "pause" && words.size() == 2) {
    auto d = parse_duration(words[1]);
    if (!d) return std::nullopt;
    return pause_action(*d);
  }
  return std::nullopt;
}

Status perform(Effects& fx, const Action& a) {
  // The kernel's part of a method; a pause is the time the policy keeps something off.
  timings::Scope timed(a.kind == Action::Kind::Pause ? "off time" : "kernel");
  switch (a.kind) {
    case Action::Kind::WriteSysfs:
      return fx.write_sysfs(a.target, a.value);
    case Action::Kind::ResetDevice:
      return fx.reset_device(a.target);
    case Action::Kind::PortPower:
      return fx.set_port_power(a.target, a.port, a.on);
    case Action::Kind::Pause:
      fx.pause(a.duration);
      return Ok{};
    case Action::Kind::WarmReset:
      return fx.warm_reset_port(a.target, a.port);
  }
  return Error{.context = {}, .object = to_string(a), .reason = "unknown action", .errnum = 0};
}

}  // namespace usbrecover
