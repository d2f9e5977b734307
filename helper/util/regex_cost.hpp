// SPDX-License-Identifier: MIT
#pragma once

// Whether glibc compiles and runs a POSIX extended regular expression cheaply. glibc's regcomp
// expands a bounded repetition into copies (x+ is xx*, x{2,4} is xx(x(x)?)?), so stacked or
// nested repetitions multiply and a long optional chain costs quadratic time and memory:
// `x{1,32767}`, ten characters, takes 18 s and 8 GB to compile, and `0` followed by seventy `+`
// more than any machine has. A repeated expression that can match nothing, or a back-reference,
// makes regexec backtrack exponentially. Patterns from configuration files (ups.conf) are
// checked here before they reach regcomp.

#include <string>
#include <string_view>

namespace usbrecover {

/// The most a single repetition may repeat: no USB string descriptor is longer (126
/// characters), so no value matched against a device needs more.
inline constexpr unsigned kMaxRegexRepeat = 126;
/// The most nodes a pattern may expand to once its repetitions are copied out: room for the
/// longest word ups.conf holds (512 characters) as a literal, not for dozens of long optional
/// chains, which regexec walks all at once (sixteen `.{0,126}` take a quarter of a second).
inline constexpr std::size_t kMaxRegexNodes = 1024;

/// Why `ere` (as given to regcomp with REG_EXTENDED) would be costly to compile or run, or an
/// empty string when it is not. Refused: a back-reference; a repetition of something that
/// repeats ("a++", "(a+)*") or can match nothing ("(a|)*", "(^)+"); a count above
/// kMaxRegexRepeat; more than kMaxRegexNodes nodes in all. Ids, names and their alternatives
/// ("0665", "051[dD]", "(Back|Smart)-UPS.*") pass. A syntax error is left to regcomp.
std::string costly_regex(std::string_view ere);

}  // namespace usbrecover
