// SPDX-License-Identifier: MIT
#include "util/json.hpp"

#include <cassert>
#include <cstdio>
#include <ostream>

#include "util/text.hpp"

namespace usbrecover {

std::string json_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    const std::size_t len = utf8_decode(s, i, cp);
    if (len == 0) {
      out += "\\ufffd";  // one replacement per invalid byte, so nothing is silently joined
      ++i;
      continue;
    }
    switch (cp) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        // Controls, DEL and C1 are legal raw in JSON but reach terminals that way; U+2028/9
        // break JavaScript consumers. Escape all of them.
        if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || cp == 0x2028 || cp == 0x2029) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
          out += buf;
        } else {
          out.append(s.substr(i, len));
        }
    }
    i += len;
  }
  out += '"';
  return out;
}

JsonWriter::~JsonWriter() {
  if (wrote_ && pretty_) os_ << '\n';
}

void JsonWriter::newline() {
  if (!pretty_) return;
  os_ << '\n';
  os_ << std::string(stack_.size() * 2, ' ');
}

void JsonWriter::before_value() {
  wrote_ = true;
  if (stack_.empty()) return;
  if (stack_.back().object) {
    assert(after_key_ && "a value inside an object needs a key");
    after_key_ = false;
    return;
  }
  if (!stack_.back().empty) os_ << ',';
  stack_.back().empty = false;
  newline();
}

JsonWriter& JsonWriter::key(std::string_view k) {
  assert(!stack_.empty() && stack_.back().object && !after_key_);
  if (!stack_.back().empty) os_ << ',';
  stack_.back().empty = false;
  newline();
  os_ << json_quote(k) << (pretty_ ? ": " : ":");
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::begin_object() {
  before_value();
  os_ << '{';
  stack_.push_back({true, true});
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  assert(!stack_.empty() && stack_.back().object && !after_key_);
  const bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty) newline();
  os_ << '}';
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  before_value();
  os_ << '[';
  stack_.push_back({false, true});
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  assert(!stack_.empty() && !stack_.back().object);
  const bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty) newline();
  os_ << ']';
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
  before_value();
  os_ << json_quote(s);
  return *this;
}

JsonWriter& JsonWriter::value(bool b) {
  before_value();
  os_ << (b ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::value(std::int64_t n) {
  before_value();
  os_ << n;
  return *this;
}

JsonWriter& JsonWriter::value(std::uint64_t n) {
  before_value();
  os_ << n;
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  os_ << "null";
  return *this;
}

}  // namespace usbrecover
