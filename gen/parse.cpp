// SPDX-License-Identifier: MIT
// The only file that includes toml++: everything else sees the Node tree.
#include "parse.hpp"

#include "strings.hpp"

#include <toml++/toml.h>
#include <algorithm>
#include <cstdio>

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

Position position(const toml::source_region& region) {
  return Position{std::max<unsigned>(1, region.begin.line), std::max<unsigned>(1, region.begin.column)};
}

/// Takes `n` apart as it goes: strings move out, and each converted member of a table or array
/// is freed at once, so the toml++ tree and ours are never both whole (peak memory).
Node convert(toml::node& n) {
  Node out;
  out.where = position(n.source());
  switch (n.type()) {
    case toml::node_type::string:
      out.kind = Node::Kind::String;
      out.text = std::move(n.as_string()->get());
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
    case toml::node_type::array: {
      out.kind = Node::Kind::Array;
      auto& array = *n.as_array();
      out.items.reserve(array.size());
      // From the back, so that each item is freed by pop_back() without moving the others.
      while (!array.empty()) {
        out.items.push_back(convert(array.back()));
        array.pop_back();
      }
      std::reverse(out.items.begin(), out.items.end());
      break;
    }
    case toml::node_type::table: {
      out.kind = Node::Kind::Table;
      auto& table = *n.as_table();
      out.fields.reserve(table.size());
      for (auto it = table.begin(); it != table.end(); it = table.erase(it)) {
        out.fields.push_back(Field{std::string(it->first.str()), position(it->first.source()), Node{}});
        out.fields.back().value = convert(it->second);
      }
      // toml++ keeps keys sorted; source order reads better in diagnostics.
      std::stable_sort(out.fields.begin(), out.fields.end(),
                       [](const Field& a, const Field& b) { return a.key_where < b.key_where; });
      break;
    }
    case toml::node_type::none:
      break;
  }
  return out;
}

/// `text` as one line a terminal shows as it is: line breaks become spaces, and every other
/// control character (C0, DEL, C1, U+2028, U+2029) and every byte of invalid UTF-8 becomes \xNN.
/// toml++ quotes what it saw in its messages ("expected 'false', saw 'fals\r'"), and the table
/// may hold escape sequences.
std::string printable_line(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::size_t len = 1;
    bool keep = byte >= 0x20 && byte < 0x7F;
    if (byte >= 0x80) {
      std::size_t next = i;
      if (const long cp = decode_utf8(text, next); cp >= 0) {
        len = next - i;
        keep = !(cp <= 0x9F || cp == 0x2028 || cp == 0x2029);
      }
    }
    if (keep) {
      out.append(text.substr(i, len));
    } else if (byte == '\n') {
      out += ' ';
    } else {
      for (std::size_t k = 0; k < len; ++k) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(text[i + k]));
        out += buf;
      }
    }
    i += len;
  }
  return out;
}

/// A non-ASCII character where toml++ would ask whether it is white space, or nullopt. toml++
/// 3.3.0, the version Debian 12 ships, answers that question for most code points from U+00A1
/// to U+049A (Latin-1, Greek, Cyrillic, ...) and a few other ranges by reaching an unreachable
/// branch: undefined behaviour (toml++ issues 190 and 295; found again by
/// tests/fuzz/fuzz_table.cpp). It asks outside strings and comments, where TOML allows no such
/// character, so the table is refused either way and only the message is ours; and after a
/// backslash in a multi-line basic string, where the one valid spelling refused is a
/// line-ending backslash followed by non-ASCII text. A quote opens a string only where TOML
/// lets one start (a key or a value); elsewhere toml++ reads it as part of a bad token, so what
/// follows it counts as outside a string.
std::optional<Diagnostic> unsafe_for_toml_reader(std::string_view s, const std::string& file) {
  enum class In { Code, Comment, Basic, Literal, MultiBasic, MultiLiteral };
  constexpr std::string_view kBlank = " \t\r\n";
  In in = In::Code;
  std::string nest;      // '[' array, '{' inline table, 'H' table header
  bool key = true;       // a key comes next (else a value)
  char previous = '\n';  // the last character of code that is not white space
  unsigned line = 1;
  unsigned column = 1;                                    // in code points, as toml++ counts them
  std::size_t i = s.starts_with("\xEF\xBB\xBF") ? 3 : 0;  // toml++ skips a byte order mark
  auto advance = [&](std::size_t n) {
    for (; n > 0 && i < s.size(); --n, ++i) {
      if (s[i] == '\n') {
        ++line;
        column = 1;
      } else if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
        ++column;
      }
    }
  };
  auto non_ascii = [&] { return i < s.size() && static_cast<unsigned char>(s[i]) >= 0x80; };
  auto refuse = [&](const char* where) -> std::optional<Diagnostic> {
    std::size_t at = i;
    const long cp = decode_utf8(s, at);
    if (cp < 0) return std::nullopt;  // invalid UTF-8: toml++ stops there with its own message
    return Diagnostic{Location{file, line, column}, "syntax error: " + codepoint_name(cp) + " " + where};
  };
  // Where TOML lets a string (or an array, or an inline table) start. Anywhere else a quote or
  // bracket is part of a bad token, which toml++ reads on through, asking of each character
  // whether it ends the token.
  auto top = [&] { return nest.empty() ? '\0' : nest.back(); };
  auto key_start = [&] {
    return key && (std::string_view("\n.{").find(previous) != std::string_view::npos ||
                   (previous == '[' && top() == 'H') || (previous == ',' && top() == '{'));
  };
  auto value_start = [&] {
    return !key && (previous == '=' ||
                    (top() == '[' && std::string_view("[,\n").find(previous) != std::string_view::npos));
  };
  while (i < s.size()) {
    const char c = s[i];
    switch (in) {
      case In::Code:
        if (non_ascii()) return refuse("outside a string or a comment");
        if ((c == '"' || c == '\'') && (key_start() || value_start())) {
          const bool multi = s.substr(i, 3) == std::string(3, c);
          in = c == '"' ? (multi ? In::MultiBasic : In::Basic) : (multi ? In::MultiLiteral : In::Literal);
          previous = 's';
          advance(multi ? 3 : 1);
          continue;
        }
        switch (c) {
          case ' ':
          case '\t':
          case '\r':
            break;
          case '#':
            in = In::Comment;
            break;
          case '\n':
            if (top() == 'H') nest.clear();  // a header ends with its line
            if (nest.empty()) key = true;
            previous = c;
            break;
          case '=':
            previous = key ? c : 'x';
            key = false;
            break;
          case '[':
            if (key && nest.empty() && previous == '\n') {
              nest += 'H';
            } else if (value_start()) {
              nest += '[';
            } else if (!(top() == 'H' && previous == '[')) {  // not the second '[' of "[["
              previous = 'x';
              break;
            }
            previous = c;
            break;
          case '{':
            if (value_start()) {
              nest += '{';
              key = true;
              previous = c;
            } else {
              previous = 'x';
            }
            break;
          case ']':
          case '}':
            if (top() == (c == ']' ? '[' : '{')) {
              nest.pop_back();
              key = top() == '{' ? false : key;  // back in the value of an inline table's key
            } else if (c == ']' && top() == 'H') {
              nest.pop_back();
            }
            previous = c;
            break;
          case ',':
            if (top() == '[' || top() == '{') key = top() == '{';
            previous = c;
            break;
          default:
            previous = c;
        }
        break;
      case In::Comment:
        if (c == '\n') {
          in = In::Code;
          continue;  // the line break is code
        }
        break;
      case In::Basic:
        if (c == '\\' && i + 1 < s.size() && s[i + 1] != '\n') {
          advance(2);  // an escape such as \" or \u00e9
          continue;
        }
        if (c == '"' || c == '\n') in = In::Code;
        if (c == '\n') continue;
        break;
      case In::Literal:
        if (c == '\'' || c == '\n') in = In::Code;
        if (c == '\n') continue;
        break;
      case In::MultiBasic:
      case In::MultiLiteral: {
        const char quote = in == In::MultiBasic ? '"' : '\'';
        if (s.substr(i, 3) == std::string(3, quote)) {
          std::size_t n = 3;
          while (n < 5 && i + n < s.size() && s[i + n] == quote) ++n;  // two more belong to the string
          advance(n);
          in = In::Code;
          continue;
        }
        if (in == In::MultiLiteral || c != '\\') break;
        advance(1);
        if (non_ascii()) return refuse("after a backslash in a multi-line string");
        if (i < s.size() && kBlank.find(s[i]) == std::string_view::npos) {
          advance(1);  // an escape such as \" or \n
          continue;
        }
        // A line-ending backslash: toml++ skips the white space and line breaks after it, and
        // asks of the first other character whether it is white space.
        while (i < s.size() && kBlank.find(s[i]) != std::string_view::npos) advance(1);
        if (non_ascii()) return refuse("after a line-ending backslash in a multi-line string");
        continue;
      }
    }
    advance(1);
  }
  return std::nullopt;
}

}  // namespace

std::optional<Document> parse_toml(std::string_view text, const std::string& file, Diagnostics& diags) {
  if (auto unsafe = unsafe_for_toml_reader(text, file)) {
    diags.push_back(*unsafe);
    return std::nullopt;
  }
  try {
    toml::table table = toml::parse(text, file);
    Document doc{file, convert(table)};
    doc.root.where = Position{1, 1};
    return doc;
  } catch (const toml::parse_error& e) {
    std::string message(e.description());
    // toml++ sometimes ends its descriptions with a period or newline; keep one clean line.
    while (!message.empty() && (message.back() == '\n' || message.back() == '.')) message.pop_back();
    const Position at = position(e.source());
    diags.push_back(
        Diagnostic{Location{file, at.line, at.column}, "syntax error: " + printable_line(message)});
    return std::nullopt;
  }
}

}  // namespace usbrecover::gen
