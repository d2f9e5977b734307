// SPDX-License-Identifier: MIT
#include "decide/history.hpp"

#include <charconv>
#include <cstdio>
#include <sstream>

namespace usbrecover {

namespace {

constexpr std::string_view kMagic = "usbrecover-history 1";

/// Percent-encodes everything but unreserved printable ASCII, so fields never hold spaces or
/// line breaks. An empty field is written as "-".
std::string encode(std::string_view s) {
  if (s.empty()) return "-";
  std::string out;
  for (unsigned char c : s) {
    if (c > 0x20 && c < 0x7F && c != '%' && c != '-') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::optional<std::string> decode(std::string_view s) {
  if (s == "-") return std::string();
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    unsigned v = 0;
    if (i + 2 >= s.size()) return std::nullopt;
    auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
    if (ec != std::errc() || p != s.data() + i + 3) return std::nullopt;
    out += static_cast<char>(v);
    i += 2;
  }
  return out;
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> out;
  while (!line.empty()) {
    auto sp = line.find(' ');
    out.push_back(line.substr(0, sp));
    if (sp == std::string_view::npos) break;
    line.remove_prefix(sp + 1);
  }
  return out;
}

std::optional<EpochMs> parse_ms(std::string_view s) {
  EpochMs v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

std::string format_history(const History& h) {
  std::ostringstream out;
  out << kMagic << '\n';
  for (const auto& a : h.attempts)
    out << "attempt " << a.at << ' ' << to_string(a.method) << ' ' << (a.recovered ? "recovered" : "failed")
        << ' ' << encode(a.detail) << '\n';
  for (const auto& s : h.services)
    out << "service " << s.at << ' ' << (s.failed ? "failed" : "ok") << ' ' << encode(s.unit) << ' '
        << encode(s.result) << ' ' << encode(s.exit_code) << ' ' << encode(s.exit_status) << '\n';
  for (const auto& o : h.overcurrents) out << "overcurrent " << o.at << ' ' << o.count << '\n';
  if (h.failure_streak > 0) out << "streak " << h.failure_streak << ' ' << encode(h.last_failure) << '\n';
  return out.str();
}

Result<History> parse_history(std::string_view text) {
  History h;
  unsigned n = 0;
  auto bad = [&n](const char* why) {
    return Error{.context = {}, .object = "line " + std::to_string(n), .reason = why, .errnum = 0};
  };
  while (!text.empty()) {
    ++n;
    auto nl = text.find('\n');
    if (nl == std::string_view::npos) return bad("unterminated line");
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    if (n == 1) {
      if (line != kMagic) return bad("not a usbrecover history file");
      continue;
    }
    auto f = split(line);
    if (f.size() == 5 && f[0] == "attempt") {
      auto at = parse_ms(f[1]);
      auto m = method_from_string(f[2]);
      auto detail = decode(f[4]);
      if (!at || !m || (f[3] != "recovered" && f[3] != "failed") || !detail) return bad("malformed attempt");
      h.attempts.push_back({*at, *m, f[3] == "recovered", *detail});
    } else if (f.size() == 7 && f[0] == "service") {
      auto at = parse_ms(f[1]);
      auto unit = decode(f[3]), result = decode(f[4]), code = decode(f[5]), status = decode(f[6]);
      if (!at || (f[2] != "ok" && f[2] != "failed") || !unit || !result || !code || !status)
        return bad("malformed service record");
      h.services.push_back({*at, *unit, f[2] == "failed", *result, *code, *status});
    } else if (f.size() == 3 && f[0] == "overcurrent") {
      auto at = parse_ms(f[1]);
      auto count = parse_ms(f[2]);
      if (!at || !count || *count > 1'000'000'000) return bad("malformed over-current record");
      h.overcurrents.push_back({*at, static_cast<unsigned>(*count)});
    } else if (f.size() == 3 && f[0] == "streak") {
      auto count = parse_ms(f[1]);
      auto what = decode(f[2]);
      if (!count || *count == 0 || *count > 1'000'000'000 || !what) return bad("malformed streak");
      h.failure_streak = static_cast<unsigned>(*count);
      h.last_failure = *what;
    } else {
      return bad("unknown record");
    }
  }
  if (n == 0) return bad("empty file");
  return h;
}

std::string format_utc(EpochMs at) {
  // Days since 1970-01-01 to a civil date (Howard Hinnant's days_from_civil, inverted), so that
  // no C library call reads the time zone.
  EpochMs seconds = at >= 0 ? at / 1000 : (at - 999) / 1000;
  EpochMs days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
  EpochMs secs = seconds - days * 86400;
  days += 719468;
  const EpochMs era = (days >= 0 ? days : days - 146096) / 146097;
  const EpochMs doe = days - era * 146097;
  const EpochMs yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const EpochMs doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const EpochMs mp = (5 * doy + 2) / 153;
  const EpochMs day = doy - (153 * mp + 2) / 5 + 1;
  const EpochMs month = mp < 10 ? mp + 3 : mp - 9;
  const EpochMs year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char buf[160];  // room for any EpochMs, so that no output is cut
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld %02lld:%02lld:%02lld UTC",
                static_cast<long long>(year), static_cast<long long>(month), static_cast<long long>(day),
                static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                static_cast<long long>(secs % 60));
  return buf;
}

std::string port_key(const std::string& port_path) {
  std::string key = "port-";
  for (char c : port_path) key += (c >= '0' && c <= '9') || c == '-' || c == '.' ? c : '_';
  return key;
}

std::optional<std::string> port_path_of_port_dir(const std::string& port_syspath) {
  const std::string name = port_syspath.substr(port_syspath.rfind('/') + 1);
  const auto at = name.rfind("-port");
  if (at == std::string::npos || at == 0) return std::nullopt;
  const std::string hub = name.substr(0, at);
  const std::string number = name.substr(at + 5);
  auto digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 3 && s.find_first_not_of("0123456789") == std::string::npos;
  };
  if (!digits(number)) return std::nullopt;
  if (hub.starts_with("usb") && digits(hub.substr(3))) return hub.substr(3) + "-" + number;
  return hub + "." + number;
}

std::string connector_key(const Snapshot& snapshot) {
  std::string path = snapshot.device.port_path;
  if (snapshot.port && snapshot.hub && snapshot.hub->superspeed && !snapshot.port->peer_syspath.empty()) {
    if (auto usb2 = port_path_of_port_dir(snapshot.port->peer_syspath)) path = *usb2;
  }
  return port_key(path);
}

}  // namespace usbrecover
