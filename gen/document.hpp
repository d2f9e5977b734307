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

/// One TOML value.
struct Node {
  enum class Kind { String, Integer, Float, Boolean, DateTime, Array, Table };
  Kind kind = Kind::Table;
  Location where;             ///< where the value starts
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
  Location key_where;
  Node value;
};

}  // namespace usbrecover::gen
