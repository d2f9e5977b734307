// SPDX-License-Identifier: MIT
#include "decide/policy_properties.hpp"

#include <charconv>

#include "properties.hpp"

namespace usbrecover {

namespace {

std::optional<std::uint64_t> number(const std::string& s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

bool has_table_properties(const Properties& props, unsigned port) {
  const std::string prefix = port == 0 ? "USBRECOVER_" : "USBRECOVER_PORT" + std::to_string(port) + "_";
  auto it = props.lower_bound(prefix);
  return it != props.end() && it->first.starts_with(prefix);
}

Result<TablePolicy> policy_from_properties(const Properties& props, unsigned port) {
  // The names are the device's own; a port entry's carry the port's prefix (on its hub).
  auto key = [port](const char* name) {
    return port == 0 ? std::string(name) : prop::port_property(port, name);
  };
  auto get = [&props, &key](const char* name) -> const std::string* {
    auto it = props.find(key(name));
    return it == props.end() ? nullptr : &it->second;
  };
  auto bad = [&key](const char* name, const std::string& why) {
    return Error{.context = {}, .object = "udev property " + key(name), .reason = why, .errnum = 0};
  };
  const std::string* schema = get(prop::kSchema);
  if (!schema) return bad(prop::kSchema, "is missing; the device is not in the usbrecover table");
  if (*schema != prop::kSchemaValue)
    return bad(prop::kSchema, "is '" + *schema + "'; this usbrecover reads " + prop::kSchemaValue +
                                  " (regenerate the rules with usbrecover-gen)");
  TablePolicy out;
  for (const char* name : {prop::kName, prop::kSource, prop::kMethods, prop::kMaxResets, prop::kWindowMs,
                           prop::kCooldownMs, prop::kProbe, prop::kAllowCollateral}) {
    if (!get(name)) return bad(name, "is missing");
  }
  out.name = *get(prop::kName);
  out.source = *get(prop::kSource);
  auto methods = split_methods(*get(prop::kMethods));
  if (!methods) return bad(prop::kMethods, "'" + *get(prop::kMethods) + "' is not a list of methods");
  out.policy.methods = *methods;
  auto resets = number(*get(prop::kMaxResets));
  if (!resets || *resets > kMaxResetsLimit)
    return bad(prop::kMaxResets,
               "'" + *get(prop::kMaxResets) + "' is not 0.." + std::to_string(kMaxResetsLimit));
  out.policy.max_resets = static_cast<unsigned>(*resets);
  // Milliseconds, as many as a table may give (never wrapped into a negative duration).
  const auto max_ms = static_cast<std::uint64_t>(kMaxDuration.count());
  auto duration = [&](const char* name, bool zero_ok, Millis& into) -> Status {
    auto n = number(*get(name));
    if (!n || (*n == 0 && !zero_ok) || *n > max_ms)
      return bad(name, "'" + *get(name) + "' is not a duration of " + (zero_ok ? "0" : "1") + ".." +
                           std::to_string(max_ms) + " ms");
    into = Millis(static_cast<Millis::rep>(*n));
    return Ok{};
  };
  if (auto st = duration(prop::kWindowMs, false, out.policy.window); !st) return st.error();
  if (auto st = duration(prop::kCooldownMs, true, out.policy.cooldown); !st) return st.error();
  auto probe = probe_from_string(*get(prop::kProbe));
  if (!probe) return bad(prop::kProbe, "'" + *get(prop::kProbe) + "' is not a probe");
  out.policy.probe = *probe;
  const std::string& collateral = *get(prop::kAllowCollateral);
  if (collateral != "0" && collateral != "1")
    return bad(prop::kAllowCollateral, "'" + collateral + "' is not 0 or 1");
  out.policy.allow_collateral = collateral == "1";
  // Rules from before these keys lack them: the table's defaults hold.
  if (get(prop::kStaleAfterMs)) {
    if (auto st = duration(prop::kStaleAfterMs, false, out.policy.stale_after); !st) return st.error();
  }
  if (get(prop::kOffTimeMs)) {
    if (auto st = duration(prop::kOffTimeMs, false, out.policy.off_time); !st) return st.error();
  }
  if (const std::string* services = get(prop::kServices)) {
    std::string_view rest(*services);
    while (!rest.empty()) {
      const auto sp = rest.find(' ');
      if (sp != 0) out.services.emplace_back(rest.substr(0, sp));
      rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
    }
  }
  if (const std::string* ids = get(prop::kIds)) {
    std::string_view rest(*ids);
    while (!rest.empty()) {
      const auto sp = rest.find(' ');
      auto id = parse_usb_id(rest.substr(0, sp));
      if (!id) return bad(prop::kIds, "'" + *ids + "' is not a list of VVVV:PPPP ids");
      out.ids.push_back(*id);
      rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
    }
  }
  return out;
}

}  // namespace usbrecover
