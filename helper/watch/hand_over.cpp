// SPDX-License-Identifier: MIT
#include "watch/hand_over.hpp"

#include <algorithm>

#include "snapshot/snapshot.hpp"
#include "util/text.hpp"

namespace usbrecover {

namespace {

std::string shown(std::string_view s) {
  return terminal_safe(std::string(s.substr(0, 64))) + (s.size() > 64 ? "…" : "");
}

Error bad(const std::string& why) {
  return Error{.context = "hand-over", .object = "request", .reason = why, .errnum = 0};
}

bool digits(std::string_view s, std::size_t max) {
  return !s.empty() && s.size() <= max &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Result<std::vector<std::string>> parse_hand_over(std::string_view request, const std::string& ups_conf) {
  if (request.empty() || request.size() > kMaxHandOverRequest)
    return bad("is empty or longer than " + std::to_string(kMaxHandOverRequest) + " bytes");
  if (request.back() != '\0') return bad("does not end with a NUL");
  std::vector<std::string> args;
  for (std::size_t start = 0; start < request.size();) {
    const std::size_t end = request.find('\0', start);
    args.emplace_back(request.substr(start, end - start));
    start = end + 1;
  }
  if (args[0] == "over-current") {
    if (args.size() != 3) return bad("over-current takes a port and a count");
    if (!hub_of_port_path(args[1])) return bad("'" + shown(args[1]) + "' is not a port path");
    if (!digits(args[2], 9)) return bad("'" + shown(args[2]) + "' is not a count");
    return args;
  }
  if (args[0] != "handle" || args.size() < 3 || args[1] != "--trigger")
    return bad("is neither 'handle --trigger …' nor 'over-current'");
  const std::string& trigger = args[2];
  std::vector<std::string> allowed, required;
  if (trigger == "port-failed") {
    allowed = required = {"--port"};
  } else if (trigger == "service-stale") {
    allowed = {"--unit", "--nut-instance", "--ups-conf", "--reason"};
    required = {"--unit", "--nut-instance"};
  } else if (trigger == "controller-died") {
    allowed = required = {"--controller", "--port", "--property"};
  } else {
    return bad("trigger '" + shown(trigger) + "' is not one the watcher hands over");
  }
  std::vector<std::string> seen;
  std::string unit, instance;
  for (std::size_t i = 3; i < args.size(); i += 2) {
    const std::string& option = args[i];
    if (std::find(allowed.begin(), allowed.end(), option) == allowed.end())
      return bad("'" + shown(option) + "' is not an option of a " + trigger + " hand-over");
    if (i + 1 >= args.size()) return bad("'" + option + "' has no value");
    if (option != "--property" && std::find(seen.begin(), seen.end(), option) != seen.end())
      return bad("'" + option + "' is given twice");
    seen.push_back(option);
    const std::string& value = args[i + 1];
    if (value.find_first_of("\n\r") != std::string::npos) return bad("'" + option + "' has a line break");
    if (option == "--ups-conf" && value != ups_conf)
      return bad("'--ups-conf' names '" + shown(value) + "', not " + ups_conf);
    if (option == "--unit") unit = value;
    if (option == "--nut-instance") instance = value;
  }
  for (const auto& r : required)
    if (std::find(seen.begin(), seen.end(), r) == seen.end()) return bad("'" + r + "' is missing");
  // The watcher restarts NUT's drivers only: the unit is the instance's nut-driver@ unit.
  if (trigger == "service-stale" && unit != "nut-driver@" + instance + ".service")
    return bad("unit '" + shown(unit) + "' is not nut-driver@" + shown(instance) + ".service");
  return args;
}

}  // namespace usbrecover
