// SPDX-License-Identifier: MIT
#include "decide/policy_properties.hpp"

#include <charconv>

#include "properties.hpp"

namespace usbrecover {

namespace {

Error bad(const char* key, const std::string& why) {
  return Error{.context = {}, .object = std::string("udev property ") + key, .reason = why, .errnum = 0};
}

std::optional<std::uint64_t> number(const std::string& s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

bool has_table_properties(const Properties& props) {
  auto it = props.lower_bound("USBRECOVER_");
  return it != props.end() && it->first.starts_with("USBRECOVER_");
}

Result<TablePolicy> policy_from_properties(const Properties& props) {
  auto get = [&props](const char* key) -> const std::string* {
    auto it = props.find(key);
    return it == props.end() ? nullptr : &it->second;
  };
  const std::string* schema = get(prop::kSchema);
  if (!schema) return bad(prop::kSchema, "is missing; the device is not in the usbrecover table");
  if (*schema != prop::kSchemaValue)
    return bad(prop::kSchema, "is '" + *schema + "'; this usbrecover reads " + prop::kSchemaValue +
                                  " (regenerate the rules with usbrecover-gen)");
  TablePolicy out;
  for (const char* key : {prop::kName, prop::kSource, prop::kMethods, prop::kMaxResets, prop::kWindowMs,
                          prop::kCooldownMs, prop::kProbe, prop::kAllowCollateral}) {
    if (!get(key)) return bad(key, "is missing");
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
  auto window = number(*get(prop::kWindowMs));
  if (!window || *window == 0 || *window > max_ms)
    return bad(prop::kWindowMs,
               "'" + *get(prop::kWindowMs) + "' is not a duration of 1.." + std::to_string(max_ms) + " ms");
  out.policy.window = Millis(static_cast<Millis::rep>(*window));
  auto cooldown = number(*get(prop::kCooldownMs));
  if (!cooldown || *cooldown > max_ms)
    return bad(prop::kCooldownMs,
               "'" + *get(prop::kCooldownMs) + "' is not a duration of 0.." + std::to_string(max_ms) + " ms");
  out.policy.cooldown = Millis(static_cast<Millis::rep>(*cooldown));
  auto probe = probe_from_string(*get(prop::kProbe));
  if (!probe) return bad(prop::kProbe, "'" + *get(prop::kProbe) + "' is not a probe");
  out.policy.probe = *probe;
  const std::string& collateral = *get(prop::kAllowCollateral);
  if (collateral != "0" && collateral != "1")
    return bad(prop::kAllowCollateral, "'" + collateral + "' is not 0 or 1");
  out.policy.allow_collateral = collateral == "1";
  return out;
}

}  // namespace usbrecover
