// SPDX-License-Identifier: MIT
#include "util/counters.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <sstream>

#include "policy.hpp"

namespace usbrecover {

namespace {

constexpr std::string_view kMagic = "usbrecover-counters 1";

std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

bool token_ok(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::optional<std::uint64_t> count(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::string format_counters(const DeviceCounters& c) {
  std::ostringstream out;
  out << kMagic << "\ndevice " << c.device << ' ' << c.id << '\n';
  for (const auto& [method, n] : c.by_method) out << method << ' ' << n.first << ' ' << n.second << '\n';
  return out.str();
}

Result<DeviceCounters> parse_counters(std::string_view text) {
  auto bad = [](const char* why) { return Error{.context = {}, .object = {}, .reason = why, .errnum = 0}; };
  std::istringstream in{std::string(text)};
  std::string line;
  if (!std::getline(in, line) || line != kMagic) return bad("not a usbrecover counters file");
  DeviceCounters c;
  std::string word;
  if (!std::getline(in, line)) return bad("no device line");
  std::istringstream dl(line);
  if (!(dl >> word >> c.device >> c.id) || word != "device" || !token_ok(c.device) || !token_ok(c.id))
    return bad("malformed device line");
  while (std::getline(in, line)) {
    std::istringstream ml(line);
    std::string method, ok, failed;
    if (!(ml >> method >> ok >> failed) || !method_from_string(method)) return bad("malformed counter line");
    auto a = count(ok), b = count(failed);
    if (!a || !b) return bad("malformed counter line");
    c.by_method[method] = {*a, *b};
  }
  return c;
}

std::string format_prometheus(std::vector<DeviceCounters> all) {
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.device < b.device; });
  std::string out =
      "# HELP usbrecover_recoveries_total Recovery attempts by usbrecover, by device, method and outcome.\n"
      "# TYPE usbrecover_recoveries_total counter\n";
  for (const auto& c : all) {
    for (const auto& [method, n] : c.by_method) {
      for (auto [outcome, value] : {std::pair{"recovered", n.first}, std::pair{"failed", n.second}}) {
        out += "usbrecover_recoveries_total{device=\"" + label(c.device) + "\",id=\"" + label(c.id) +
               "\",method=\"" + label(method) + "\",outcome=\"" + outcome + "\"} " + std::to_string(value) +
               "\n";
      }
    }
  }
  return out;
}

}  // namespace usbrecover
