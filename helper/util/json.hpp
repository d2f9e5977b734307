// SPDX-License-Identifier: MIT
#pragma once

// A small streaming JSON writer for the `--json` outputs. Strings are escaped so that any bytes
// a device reports (control characters, quotes, invalid UTF-8) still give valid JSON: control
// characters become \u00XX, invalid UTF-8 bytes become U+FFFD.

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace usbrecover {

/// `s` as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);

/// Writes one JSON value to a stream, pretty-printed with two-space indentation. Calls must
/// nest properly (every begin_* has its end_*, a key() precedes each value inside an object);
/// the writer inserts commas and newlines. Misuse is a programming error and asserts.
class JsonWriter {
 public:
  /// `pretty`: indented over lines and ended with a newline; otherwise one line with no
  /// newline at all (the caller ends it: one object a line).
  explicit JsonWriter(std::ostream& os, bool pretty = true) : os_(os), pretty_(pretty) {}
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;
  /// Ends the document with a newline when something was written.
  ~JsonWriter();

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  /// The key of the next value inside an object.
  JsonWriter& key(std::string_view k);

  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(bool b);
  JsonWriter& value(std::int64_t n);
  JsonWriter& value(std::uint64_t n);
  JsonWriter& value(int n) { return value(static_cast<std::int64_t>(n)); }
  JsonWriter& value(unsigned n) { return value(static_cast<std::uint64_t>(n)); }
  JsonWriter& null();

  /// key(k).value(v), the common case.
  template <typename T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

 private:
  struct Level {
    bool object = false;
    bool empty = true;
  };
  void before_value();
  void newline();

  std::ostream& os_;
  bool pretty_ = true;
  std::vector<Level> stack_;
  bool after_key_ = false;
  bool wrote_ = false;
};

}  // namespace usbrecover
