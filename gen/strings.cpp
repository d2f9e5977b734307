// SPDX-License-Identifier: MIT
#include "strings.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace usbrecover::gen {

long decode_utf8(std::string_view s, std::size_t& i) {
  auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) {
    ++i;
    return b;
  }
  int len = 0;
  long cp = 0;
  long min = 0;
  if ((b & 0xE0) == 0xC0) {
    len = 2, cp = b & 0x1F, min = 0x80;
  } else if ((b & 0xF0) == 0xE0) {
    len = 3, cp = b & 0x0F, min = 0x800;
  } else if ((b & 0xF8) == 0xF0) {
    len = 4, cp = b & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (i + static_cast<std::size_t>(len) > s.size()) return -1;
  for (int k = 1; k < len; ++k) {
    auto c = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((c & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (c & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  i += static_cast<std::size_t>(len);
  return cp;
}

std::string codepoint_name(long cp) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "U+%04lX", cp);
  return buf;
}

std::string check_text(std::string_view s, std::size_t max_bytes) {
  if (s.empty()) return "is empty";
  if (s.size() > max_bytes) return "is longer than " + std::to_string(max_bytes) + " bytes";
  for (std::size_t i = 0; i < s.size();) {
    long cp = decode_utf8(s, i);
    if (cp < 0) return "is not valid UTF-8";
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029)
      return "contains a control character (" + codepoint_name(cp) + ")";
    if (cp == '"') return "contains a double quote";
    if (cp == '\\') return "contains a backslash";
  }
  return {};
}

std::string check_descriptor_string(std::string_view s) {
  if (auto why = check_text(s, 4 * 126); !why.empty()) return why;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size(); ++chars) decode_utf8(s, i);
  if (chars > 126) return "is longer than a USB string descriptor (126 characters)";
  for (char c : s) {
    if (std::string_view("*?[]|").find(c) != std::string_view::npos)
      return std::string("contains '") + c + "', which udev would treat as a pattern (matches are exact)";
    if (c == '$' || c == '%')
      return std::string("contains '") + c + "', which udev and systemd would substitute";
  }
  return {};
}

std::string check_group(std::string_view s) {
  auto ok_first = [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
  auto ok_rest = [&](char c) { return ok_first(c) || (c >= '0' && c <= '9') || c == '-'; };
  if (s.empty() || s.size() > 32 || !ok_first(s[0]) || !std::all_of(s.begin() + 1, s.end(), ok_rest))
    return "is not a valid group name (lower-case letters, digits, '_' and '-', e.g. \"nut\")";
  return {};
}

std::string check_port_path(std::string_view s) {
  const char* why = "is not a port path (bus-port[.port...], e.g. \"1-1.2\")";
  auto dash = s.find('-');
  if (dash == std::string_view::npos) return why;
  auto number = [](std::string_view n, unsigned max) {
    if (n.empty() || n.size() > 3 || n[0] == '0') return false;
    unsigned v = 0;
    for (char c : n) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    return v >= 1 && v <= max;
  };
  if (!number(s.substr(0, dash), 999)) return why;
  std::string_view rest = s.substr(dash + 1);
  int depth = 0;
  while (true) {
    auto dot = rest.find('.');
    if (!number(rest.substr(0, dot), 255)) return why;
    if (++depth > 7) return "is deeper than USB allows (at most 7 tiers)";
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return {};
}

std::string check_service(std::string_view s) {
  const char* why = "is not a service name (e.g. \"nut-driver@.service\" or \"myups.service\")";
  constexpr std::string_view kSuffix = ".service";
  if (s.size() > 255 || s.size() <= kSuffix.size() || !s.ends_with(kSuffix)) return why;
  std::string_view stem = s.substr(0, s.size() - kSuffix.size());
  auto at = stem.find('@');
  auto valid = [](std::string_view part, bool allow_empty) {
    if (part.empty()) return allow_empty;
    return std::all_of(part.begin(), part.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             std::string_view(":_.-").find(c) != std::string_view::npos;
    });
  };
  if (at == std::string_view::npos) return valid(stem, false) ? std::string() : why;
  if (!valid(stem.substr(0, at), false) || !valid(stem.substr(at + 1), true)) return why;
  return {};
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace usbrecover::gen
