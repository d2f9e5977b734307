// SPDX-License-Identifier: MIT
#include "util/regex_cost.hpp"

#include <algorithm>
#include <optional>

namespace usbrecover {

namespace {

/// Sizes saturate here, far above any limit, so that no count wraps around.
constexpr std::size_t kSaturated = std::size_t{1} << 40;

std::size_t add(std::size_t a, std::size_t b) {
  return std::min(a + b, kSaturated);
}
std::size_t times(std::size_t a, std::size_t b) {
  return b != 0 && a > kSaturated / b ? kSaturated : std::min(a * b, kSaturated);
}

/// What a part of the pattern amounts to once glibc has expanded it.
struct Part {
  std::size_t nodes = 0;
  bool repeats = false;      ///< holds a repetition
  bool can_be_empty = true;  ///< may match the empty string
};

/// A recursive-descent reading of the ERE, as glibc's POSIX extended syntax reads it, far
/// enough to size every part. Where glibc would report a syntax error any reading will do:
/// regcomp refuses the pattern anyway.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  std::string run() {
    Part all = alternation(/*nested=*/false);
    while (why_.empty() && pos_ < s_.size()) {
      // An unmatched ')' is an ordinary character in glibc's POSIX extended syntax.
      ++pos_;
      all.nodes = add(all.nodes, 1);
      all = concat(all, alternation(false));
    }
    if (why_.empty() && all.nodes > kMaxRegexNodes)
      why_ = "it expands to more than " + std::to_string(kMaxRegexNodes) + " nodes";
    return why_;
  }

 private:
  static Part concat(Part a, const Part& b) {
    a.nodes = add(a.nodes, b.nodes);
    a.repeats = a.repeats || b.repeats;
    a.can_be_empty = a.can_be_empty && b.can_be_empty;
    return a;
  }

  bool at(char c) const { return pos_ < s_.size() && s_[pos_] == c; }

  /// branch ('|' branch)*, up to a ')' that closes a group (left for the caller) or the end.
  Part alternation(bool nested) {
    Part out = branch(nested);
    while (why_.empty() && at('|')) {
      ++pos_;
      Part next = branch(nested);
      out.nodes = add(add(out.nodes, next.nodes), 1);
      out.repeats = out.repeats || next.repeats;
      out.can_be_empty = out.can_be_empty || next.can_be_empty;
    }
    return out;
  }

  Part branch(bool nested) {
    Part out;
    while (why_.empty() && pos_ < s_.size() && !at('|') && !(nested && at(')'))) {
      if (at(')')) return out;  // unmatched at the top: run() reads it as a character
      out = concat(out, piece());
    }
    return out;
  }

  /// An atom and the repetition that follows it, if any.
  Part piece() {
    Part p = atom();
    if (!why_.empty()) return p;
    auto bounds = repetition();
    if (!bounds) return p;
    if (repetition()) {
      why_ = "a repetition is repeated (as in 'a++')";
      return p;
    }
    if (p.repeats) {
      why_ = "a repeated expression holds a repetition (as in '(a+)*')";
      return p;
    }
    if (p.can_be_empty) {
      why_ = "a repeated expression can match nothing (as in '(a|)*')";
      return p;
    }
    auto [min, max] = *bounds;
    if (min > kMaxRegexRepeat || (max && *max > kMaxRegexRepeat)) {
      why_ = "a count is above " + std::to_string(kMaxRegexRepeat) + " (no USB string is longer)";
      return p;
    }
    // x* and x? keep one copy; x+ and x{n,} keep n + 1; x{n,m} keeps m.
    const std::size_t copies = std::max<std::size_t>(1, max ? *max : min + 1);
    p.nodes = add(times(p.nodes, copies), 1);
    p.repeats = true;
    p.can_be_empty = min == 0;
    return p;
  }

  Part atom() {
    const char c = s_[pos_++];
    switch (c) {
      case '(': {
        Part inner = alternation(/*nested=*/true);
        if (at(')')) ++pos_;
        inner.nodes = add(inner.nodes, 1);
        return inner;
      }
      case '[':
        bracket();
        return {1, false, false};
      case '^':
      case '$':
        return {1, false, true};
      case '\\': {
        if (pos_ >= s_.size()) return {1, false, false};
        const char e = s_[pos_++];
        if (e >= '1' && e <= '9') {
          why_ = "a back-reference makes matching exponential";
          return {};
        }
        // GNU's word and buffer anchors match between characters, like ^ and $.
        const bool anchor = std::string_view("bB<>`'").find(e) != std::string_view::npos;
        return {1, false, anchor};
      }
      default:
        // Also a repetition operator or '{' where no atom precedes it: glibc refuses the
        // first and reads the second as a character; either way it is one node.
        return {1, false, false};
    }
  }

  /// Skips a bracket expression after its '['.
  void bracket() {
    if (at('^')) ++pos_;
    if (at(']')) ++pos_;  // a ']' first is a member
    while (pos_ < s_.size() && s_[pos_] != ']') {
      if (s_[pos_] == '[' && pos_ + 1 < s_.size() &&
          std::string_view(":.=").find(s_[pos_ + 1]) != std::string_view::npos) {
        const char kind = s_[pos_ + 1];
        const auto end = s_.find(std::string{kind, ']'}, pos_ + 2);
        pos_ = end == std::string_view::npos ? s_.size() : end + 2;
        continue;
      }
      ++pos_;
    }
    if (pos_ < s_.size()) ++pos_;
  }

  /// The bounds of the repetition at pos_, consumed; nullopt (nothing consumed) when there is
  /// none. An unbounded maximum is nullopt.
  std::optional<std::pair<std::size_t, std::optional<std::size_t>>> repetition() {
    if (pos_ >= s_.size()) return std::nullopt;
    switch (s_[pos_]) {
      case '*':
        ++pos_;
        return std::pair{std::size_t{0}, std::optional<std::size_t>()};
      case '+':
        ++pos_;
        return std::pair{std::size_t{1}, std::optional<std::size_t>()};
      case '?':
        ++pos_;
        return std::pair{std::size_t{0}, std::optional<std::size_t>(1)};
      case '{':
        return interval();
      default:
        return std::nullopt;
    }
  }

  /// "{n}", "{n,}", "{n,m}" and glibc's "{,m}"; anything else is not an interval.
  std::optional<std::pair<std::size_t, std::optional<std::size_t>>> interval() {
    std::size_t i = pos_ + 1;
    auto number = [&]() -> std::optional<std::size_t> {
      const std::size_t start = i;
      std::size_t v = 0;
      while (i < s_.size() && s_[i] >= '0' && s_[i] <= '9') {
        v = add(times(v, 10), static_cast<std::size_t>(s_[i] - '0'));
        ++i;
      }
      return i > start ? std::optional(v) : std::nullopt;
    };
    const auto min = number();
    std::optional<std::size_t> max = min;
    bool comma = false;
    if (i < s_.size() && s_[i] == ',') {
      comma = true;
      ++i;
      max = number();
    }
    if (i >= s_.size() || s_[i] != '}' || (!min && !comma)) return std::nullopt;
    pos_ = i + 1;
    return std::pair{min.value_or(0), max};
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::string why_;
};

}  // namespace

std::string costly_regex(std::string_view ere) {
  return Reader(ere).run();
}

}  // namespace usbrecover
