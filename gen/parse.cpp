// SPDX-License-Identifier: MIT
// The only file that includes toml++: everything else sees the Node tree.
#include "parse.hpp"

#include <toml++/toml.h>
#include <algorithm>

namespace usbrecover::gen {

const char* Node::kind_name() const {
  switch (kind) {
    case Kind::String:
      return "a string";
    case Kind::Integer:
      return "an integer";
    case Kind::Float:
      return "a float";
    case Kind::Boolean:
      return "a boolean";
    case Kind::DateTime:
      return "a date/time";
    case Kind::Array:
      return "an array";
    case Kind::Table:
      return "a table";
  }
  return "a value";
}

namespace {

Location location(const toml::source_region& region, const std::string& file) {
  return Location{file, std::max<unsigned>(1, region.begin.line), std::max<unsigned>(1, region.begin.column)};
}

Node convert(const toml::node& n, const std::string& file) {
  Node out;
  out.where = location(n.source(), file);
  switch (n.type()) {
    case toml::node_type::string:
      out.kind = Node::Kind::String;
      out.text = *n.value<std::string>();
      break;
    case toml::node_type::integer:
      out.kind = Node::Kind::Integer;
      out.integer = *n.value<std::int64_t>();
      break;
    case toml::node_type::floating_point:
      out.kind = Node::Kind::Float;
      break;
    case toml::node_type::boolean:
      out.kind = Node::Kind::Boolean;
      out.boolean = *n.value<bool>();
      break;
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      out.kind = Node::Kind::DateTime;
      break;
    case toml::node_type::array:
      out.kind = Node::Kind::Array;
      for (const auto& item : *n.as_array()) out.items.push_back(convert(item, file));
      break;
    case toml::node_type::table:
      out.kind = Node::Kind::Table;
      for (const auto& [key, value] : *n.as_table()) {
        out.fields.push_back(
            Field{std::string(key.str()), location(key.source(), file), convert(value, file)});
      }
      // toml++ keeps keys sorted; source order reads better in diagnostics.
      std::stable_sort(out.fields.begin(), out.fields.end(),
                       [](const Field& a, const Field& b) { return a.key_where < b.key_where; });
      break;
    case toml::node_type::none:
      break;
  }
  return out;
}

}  // namespace

std::optional<Node> parse_toml(std::string_view text, const std::string& file, Diagnostics& diags) {
  try {
    toml::table table = toml::parse(text, file);
    Node root = convert(table, file);
    root.where = Location{file, 1, 1};
    return root;
  } catch (const toml::parse_error& e) {
    std::string message(e.description());
    // toml++ sometimes ends its descriptions with a period or newline; keep one clean line.
    while (!message.empty() && (message.back() == '\n' || message.back() == '.')) message.pop_back();
    std::replace(message.begin(), message.end(), '\n', ' ');
    diags.push_back(Diagnostic{location(e.source(), file), "syntax error: " + message});
    return std::nullopt;
  }
}

}  // namespace usbrecover::gen
