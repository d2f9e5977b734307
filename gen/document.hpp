// SPDX-License-Identifier: MIT
#pragma once

// A TOML document as plain data with the position of every key and value. The parser makes
// it (and is the only code that sees toml++); the validator reads it.

#include <cstdint>
#include <string>
#include <vector>

#include "table.hpp"

namespace usbrecover::gen {

struct Field;

/// A place in the document's file; line and column are 1-based. The file is named once, in
/// Document: a table of ten thousand entries has a hundred thousand of these.
struct Position {
  unsigned line = 1;
  unsigned column = 1;

  friend auto operator<=>(const Position&, const Position&) = default;
};

/// One TOML value.
struct Node {
  enum class Kind { String, Integer, Float, Boolean, DateTime, Array, Table };
  Kind kind = Kind::Table;
  Position where;             ///< where the value starts
  std::string text;           ///< String
  std::int64_t integer = 0;   ///< Integer
  bool boolean = false;       ///< Boolean
  std::vector<Node> items;    ///< Array
  std::vector<Field> fields;  ///< Table, in source order

  /// "a string", "an integer", ... for error messages.
  [[nodiscard]] const char* kind_name() const;
};

/// One key = value of a table.
struct Field {
  std::string key;
  Position key_where;
  Node value;
};

/// A parsed table file: its name (for locations) and its root table.
struct Document {
  std::string file;
  Node root;

  /// The location of `p` in this file.
  [[nodiscard]] Location at(Position p) const { return Location{file, p.line, p.column}; }
};

}  // namespace usbrecover::gen
