// SPDX-License-Identifier: MIT
#include "validate.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <numeric>
#include <set>
#include <string_view>

#include "strings.hpp"

namespace usbrecover::gen {

namespace {

constexpr std::array<std::string_view, 11> kPolicyKeys = {
    "group",    "mode",  "keep_awake",       "methods",     "max_resets", "window",
    "cooldown", "probe", "allow_collateral", "stale_after", "off_time"};
constexpr std::array<std::string_view, 7> kMatchKeys = {"name",   "ids",  "manufacturer", "product",
                                                        "serial", "port", "services"};
constexpr std::array<std::string_view, 3> kTopKeys = {"schema", "defaults", "device"};

bool contains(auto const& keys, std::string_view k) {
  return std::find(keys.begin(), keys.end(), k) != keys.end();
}

class FileValidator {
 public:
  FileValidator(const Document& doc, Diagnostics& diags) : doc_(doc), diags_(diags) {}

  std::vector<DeviceRule> run();

 private:
  void error(Position where, std::string message) { diags_.push_back({doc_.at(where), std::move(message)}); }
  void error(const Location& where, std::string message) { diags_.push_back({where, std::move(message)}); }

  void unknown_key(const Field& f, std::string_view where, std::vector<std::string_view> allowed);
  bool expect(const Field& f, Node::Kind kind, std::string_view what);
  // The value's own text, or null after an error: no copies of the table's strings to check them.
  const std::string* string_value(const Field& f);
  const std::string* checked(const Field& f, const Node& value, const std::string& why);
  bool apply_policy(const Field& f, Policy& policy);
  std::optional<Millis> duration(const Field& f);
  void device(const Node& entry, const Policy& defaults, std::vector<DeviceRule>& out);
  std::vector<std::string> services(const Field& f);

  const Document& doc_;
  Diagnostics& diags_;
};

void FileValidator::unknown_key(const Field& f, std::string_view where,
                                std::vector<std::string_view> allowed) {
  std::string message = "unknown key " + quoted(f.key);
  if (!where.empty()) message += " in " + std::string(where);
  std::string_view best;
  std::size_t best_distance = 3;  // suggest only near misses
  for (auto k : allowed) {
    auto d = edit_distance(f.key, k);
    if (d < best_distance) best_distance = d, best = k;
  }
  if (!best.empty()) message += " (did you mean '" + std::string(best) + "'?)";
  error(f.key_where, message);
}

bool FileValidator::expect(const Field& f, Node::Kind kind, std::string_view what) {
  if (f.value.kind == kind) return true;
  error(f.value.where, "'" + f.key + "' must be " + std::string(what) + ", not " + f.value.kind_name());
  return false;
}

const std::string* FileValidator::checked(const Field& f, const Node& value, const std::string& why) {
  if (why.empty()) return &value.text;
  error(value.where, "'" + f.key + "' " + quoted(value.text) + " " + why);
  return nullptr;
}

const std::string* FileValidator::string_value(const Field& f) {
  if (!expect(f, Node::Kind::String, "a string")) return nullptr;
  return &f.value.text;
}

std::optional<Millis> FileValidator::duration(const Field& f) {
  auto text = string_value(f);
  if (!text) return std::nullopt;
  auto d = parse_duration(*text);
  if (!d) {
    error(f.value.where,
          "bad duration " + quoted(*text) + " for '" + f.key +
              "' (expected a number and ms, s, m or h, e.g. \"30s\" or \"1h\", at most 30 days)");
    return std::nullopt;
  }
  return d;
}

/// Applies one policy key; returns false when `f` is not a policy key.
bool FileValidator::apply_policy(const Field& f, Policy& p) {
  // Most keys of an entry are not policy keys: one pass over the names instead of the chain.
  if (!contains(kPolicyKeys, f.key)) return false;
  const auto& v = f.value;
  if (f.key == "group") {
    if (auto s = string_value(f)) {
      if (auto g = checked(f, v, check_group(*s))) p.group = *g;
    }
  } else if (f.key == "mode") {
    auto s = string_value(f);
    if (!s) return true;
    bool octal = (s->size() == 3 || s->size() == 4) &&
                 std::all_of(s->begin(), s->end(), [](char c) { return c >= '0' && c <= '7'; });
    if (!octal) {
      error(v.where, "bad mode " + quoted(*s) + " (expected 3 or 4 octal digits, e.g. \"0664\")");
      return true;
    }
    unsigned mode = static_cast<unsigned>(std::stoul(*s, nullptr, 8));
    if (mode & 07000) {
      error(v.where, "mode " + quoted(*s) + " sets the setuid, setgid or sticky bit; refusing");
    } else if (mode & 0002) {
      error(v.where, "mode " + quoted(*s) + " is world-writable; refusing");
    } else {
      p.mode = mode;
    }
  } else if (f.key == "keep_awake" || f.key == "allow_collateral") {
    if (expect(f, Node::Kind::Boolean, "true or false"))
      (f.key == "keep_awake" ? p.keep_awake : p.allow_collateral) = v.boolean;
  } else if (f.key == "methods") {
    if (!expect(f, Node::Kind::Array, "an array of method names")) return true;
    std::vector<Method> methods;
    bool ok = true;
    for (const auto& item : v.items) {
      if (item.kind != Node::Kind::String) {
        error(item.where, "'methods' must list strings, not " + std::string(item.kind_name()));
        ok = false;
        continue;
      }
      auto m = method_from_string(item.text);
      if (!m) {
        error(item.where,
              "unknown method " + quoted(item.text) + " (expected one of: " + method_names() + ")");
        ok = false;
      } else if (std::find(methods.begin(), methods.end(), *m) != methods.end()) {
        error(item.where, "method " + quoted(item.text) + " is listed twice");
        ok = false;
      } else {
        methods.push_back(*m);
      }
    }
    if (v.items.empty()) {
      error(v.where, "'methods' is empty; list at least one method (" + method_names() + ")");
    } else if (ok) {
      p.methods = methods;
    }
  } else if (f.key == "max_resets") {
    if (!expect(f, Node::Kind::Integer, "an integer")) return true;
    if (v.integer < 0 || v.integer > kMaxResetsLimit) {
      error(v.where, "'max_resets' must be between 0 and " + std::to_string(kMaxResetsLimit) + ", not " +
                         std::to_string(v.integer));
    } else {
      p.max_resets = static_cast<unsigned>(v.integer);
    }
  } else if (f.key == "window") {
    if (auto d = duration(f)) {
      if (d->count() == 0)
        error(v.where, "'window' must be longer than 0s");
      else
        p.window = *d;
    }
  } else if (f.key == "cooldown") {
    if (auto d = duration(f)) p.cooldown = *d;
  } else if (f.key == "stale_after") {
    if (auto d = duration(f)) {
      if (d->count() == 0)
        error(v.where, "'stale_after' must be longer than 0s");
      else
        p.stale_after = *d;
    }
  } else if (f.key == "off_time") {
    if (auto d = duration(f)) {
      if (*d < Millis(100) || *d > Millis(60'000))
        error(v.where, "'off_time' must be between 100ms and 1m, not " + quoted(v.text));
      else
        p.off_time = *d;
    }
  } else if (f.key == "probe") {
    if (auto s = string_value(f)) {
      if (auto probe = probe_from_string(*s))
        p.probe = *probe;
      else
        error(v.where, "unknown probe " + quoted(*s) + " (expected one of: " + probe_names() + ")");
    }
  } else {
    return false;
  }
  return true;
}

std::vector<std::string> FileValidator::services(const Field& f) {
  std::vector<std::string> out;
  if (!expect(f, Node::Kind::Array, "an array of service names")) return out;
  for (const auto& item : f.value.items) {
    if (item.kind != Node::Kind::String) {
      error(item.where, "'services' must list strings, not " + std::string(item.kind_name()));
      continue;
    }
    const auto& s = item.text;
    if (auto why = check_service(s); !why.empty()) {
      error(item.where, "'services' " + quoted(s) + " " + why);
    } else if (s.starts_with("nut-driver@") && s != "nut-driver@.service") {
      error(item.where,
            "'services' " + quoted(s) +
                " is one instance; name the template \"nut-driver@.service\" (nut-driver-enumerator "
                "removes per-instance drop-ins; usbrecover finds each instance's device in ups.conf)");
    } else if (s.starts_with("usbrecover")) {
      error(item.where, "'services' " + quoted(s) + " is usbrecover's own unit");
    } else if (std::find(out.begin(), out.end(), s) != out.end()) {
      error(item.where, "service " + quoted(s) + " is listed twice");
    } else {
      out.push_back(s);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void FileValidator::device(const Node& entry, const Policy& defaults, std::vector<DeviceRule>& out) {
  DeviceRule base;
  base.policy = defaults;
  base.entry = doc_.at(entry.where);
  const Field* ids = nullptr;
  bool has_name = false;

  for (const auto& f : entry.fields) {
    if (apply_policy(f, base.policy)) continue;
    if (f.key == "name") {
      if (auto s = string_value(f)) {
        if (auto name = checked(f, f.value, check_text(*s))) base.name = *name;
      }
      has_name = true;
    } else if (f.key == "ids") {
      ids = &f;
    } else if (f.key == "manufacturer" || f.key == "product" || f.key == "serial") {
      if (auto s = string_value(f)) {
        if (auto text = checked(f, f.value, check_descriptor_string(*s))) {
          (f.key == "manufacturer" ? base.match.manufacturer
           : f.key == "product"    ? base.match.product
                                   : base.match.serial) = *text;
        }
      }
    } else if (f.key == "port") {
      if (auto s = string_value(f)) {
        if (auto port = checked(f, f.value, check_port_path(*s))) base.match.port = *port;
      }
    } else if (f.key == "services") {
      base.services = services(f);
    } else {
      std::vector<std::string_view> allowed(kMatchKeys.begin(), kMatchKeys.end());
      allowed.insert(allowed.end(), kPolicyKeys.begin(), kPolicyKeys.end());
      unknown_key(f, "[[device]]", allowed);
    }
  }
  if (!has_name) error(entry.where, "[[device]] entry has no 'name'");
  if (!ids) {
    error(entry.where, "[[device]] entry has no 'ids'");
    return;
  }
  if (!expect(*ids, Node::Kind::Array, "an array of \"VVVV:PPPP\" strings")) return;
  if (ids->value.items.empty()) {
    error(ids->value.where, "'ids' is empty; list at least one \"VVVV:PPPP\"");
    return;
  }
  std::set<UsbId> seen;
  for (const auto& item : ids->value.items) {
    if (item.kind != Node::Kind::String) {
      error(item.where, "'ids' must list strings, not " + std::string(item.kind_name()));
      continue;
    }
    auto id = parse_usb_id(item.text);
    if (!id) {
      error(item.where,
            "bad id " + quoted(item.text) +
                " (expected four hex digits, ':', and four hex digits or '*', e.g. \"0665:5161\")");
      continue;
    }
    if (!seen.insert(*id).second) {
      error(item.where, "id " + to_string(*id) + " is listed twice in this entry");
      continue;
    }
    if (!id->product && !base.services.empty()) {
      error(item.where,
            "id " + to_string(*id) +
                " matches a whole vendor; 'services' drop-ins need exact ids to find their device");
      continue;
    }
    // The last id takes the entry's rule itself; most entries have one id.
    DeviceRule& rule = out.emplace_back(&item == &ids->value.items.back() ? std::move(base) : base);
    rule.match.id = *id;
    rule.id = doc_.at(item.where);
  }
}

std::vector<DeviceRule> FileValidator::run() {
  const Node& root = doc_.root;
  std::vector<DeviceRule> rules;
  Policy defaults;
  const Field* schema = nullptr;
  const Field* devices = nullptr;
  for (const auto& f : root.fields) {
    if (f.key == "schema") {
      schema = &f;
    } else if (f.key == "defaults") {
      if (!expect(f, Node::Kind::Table, "a table ([defaults])")) continue;
      for (const auto& d : f.value.fields) {
        if (!apply_policy(d, defaults))
          unknown_key(d, "[defaults]", std::vector<std::string_view>(kPolicyKeys.begin(), kPolicyKeys.end()));
      }
    } else if (f.key == "device") {
      devices = &f;
    } else {
      unknown_key(f, "", std::vector<std::string_view>(kTopKeys.begin(), kTopKeys.end()));
    }
  }
  if (!schema) {
    error(root.where, "missing 'schema = 1' (every table starts with it)");
  } else if (expect(*schema, Node::Kind::Integer, "an integer") && schema->value.integer != 1) {
    error(schema->value.where, "unknown schema " + std::to_string(schema->value.integer) +
                                   " (this usbrecover-gen reads schema 1)");
  }
  if (devices) {
    if (devices->value.kind == Node::Kind::Table) {
      error(devices->key_where, "'device' must be written [[device]] (an array of tables), not [device]");
    } else if (expect(*devices, Node::Kind::Array, "an array of tables ([[device]])")) {
      rules.reserve(devices->value.items.size());  // one id an entry, mostly
      for (const auto& entry : devices->value.items) {
        if (entry.kind != Node::Kind::Table) {
          error(entry.where, "'device' must hold tables ([[device]]), not " + std::string(entry.kind_name()));
          continue;
        }
        device(entry, defaults, rules);
      }
    }
  }

  // The same match twice in one file is fine when it says the same thing, an error otherwise.
  // Sorted indices find them without a map of copied matches; the errors keep file order.
  std::vector<std::size_t> order(rules.size());
  std::iota(order.begin(), order.end(), 0);
  auto by_match = [&rules](std::size_t a, std::size_t b) { return emission_order(rules[a], rules[b]); };
  if (!std::is_sorted(order.begin(), order.end(), by_match))  // a table is often written in order
    std::stable_sort(order.begin(), order.end(), by_match);
  std::vector<bool> keep(rules.size(), true);
  std::vector<std::pair<std::size_t, std::size_t>> again;  // (a repeat, the first of its match)
  for (std::size_t k = 1, first = order.empty() ? 0 : order[0]; k < order.size(); ++k) {
    const DeviceRule& r = rules[order[k]];
    if (emission_order(rules[first], r)) {
      first = order[k];
      continue;
    }
    keep[order[k]] = false;
    if (rules[first].policy != r.policy || rules[first].services != r.services)
      again.emplace_back(order[k], first);
  }
  std::sort(again.begin(), again.end());
  for (const auto& [repeat, first] : again) {
    const DeviceRule& r = rules[repeat];
    error(r.id, to_string(r.match.id) + " is listed again with a different policy (first at " +
                    rules[first].id.str() + ")");
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    if (!keep[i]) continue;
    if (kept != i) rules[kept] = std::move(rules[i]);
    ++kept;
  }
  rules.erase(rules.begin() + static_cast<std::ptrdiff_t>(kept), rules.end());
  return rules;
}

}  // namespace

std::string quoted(std::string_view s) {
  std::string out = "'";
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7F && c != '\'' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + "'";
}

std::vector<DeviceRule> validate_file(const Document& doc, Diagnostics& diags) {
  return FileValidator(doc, diags).run();
}

Diagnostics check_ports(const Table& table) {
  Diagnostics diags;
  std::map<std::string, const DeviceRule*> first;
  for (const auto& r : table.rules) {
    if (r.match.port.empty()) continue;
    auto [it, inserted] = first.emplace(r.match.port, &r);
    if (inserted || it->second->policy == r.policy) continue;
    diags.push_back({r.id, "port " + r.match.port + " is named again with a different policy (first at " +
                               it->second->id.str() + "); what fails to enumerate there needs one"});
  }
  return diags;
}

Table merge(const std::vector<std::string>& sources, std::vector<std::vector<DeviceRule>> files) {
  Table table;
  table.sources = sources;
  // One file (the usual case) already in emission order with each match once: it is the table.
  const auto not_before = [](const DeviceRule& a, const DeviceRule& b) { return !emission_order(a, b); };
  if (files.size() == 1 &&
      std::adjacent_find(files[0].begin(), files[0].end(), not_before) == files[0].end()) {
    table.rules = std::move(files[0]);
    return table;
  }
  // Sorts references, then moves each rule once: a rule is some hundred bytes, and a sort
  // moves its elements again and again.
  std::vector<DeviceRule*> all;
  std::size_t total = 0;
  for (const auto& file : files) total += file.size();
  all.reserve(total);
  for (auto& file : files)
    for (auto& r : file) all.push_back(&r);
  // Equal in emission order means the same match. Stable: of equal matches the later file's
  // comes last (a file has each match once), and it is the one kept.
  auto in_order = [](const DeviceRule* a, const DeviceRule* b) { return emission_order(*a, *b); };
  if (!std::is_sorted(all.begin(), all.end(), in_order)) std::stable_sort(all.begin(), all.end(), in_order);
  table.rules.reserve(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (i + 1 < all.size() && !emission_order(*all[i], *all[i + 1])) continue;
    table.rules.push_back(std::move(*all[i]));
  }
  return table;
}

}  // namespace usbrecover::gen
