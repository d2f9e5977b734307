// SPDX-License-Identifier: MIT
// Which regular expressions glibc compiles and runs cheaply: what NUT's matchers hold passes, what
// makes regcomp or regexec take seconds or gigabytes is refused, each with its reason.

#include "util/regex_cost.hpp"

#include <gtest/gtest.h>

#include <string>

namespace usbrecover {
namespace {

TEST(RegexCost, IdsNamesAndTheirAlternativesPass) {
  for (const char* ok :
       {"^(0665)$", "^(051[dD])$", "^((Back|Smart)-UPS.*)$", "^(00[1-3])$", "^([[:xdigit:]]{4})$",
        "^(American Power.*)$", "^(a?b*c+)$", "^(x{126})$", "^([]a]+)$", "^(\\(literal\\)+)$",
        "^(((((x)))))$", "^(a)|(b)$", ")(", "(", "x{", "{1,2}"}) {
    EXPECT_EQ(costly_regex(ok), "") << ok;
  }
  // The longest word ups.conf keeps, as a literal.
  EXPECT_EQ(costly_regex("^(" + std::string(512, 'x') + ")$"), "");
}

// Regression (fuzz-ups_conf): `0` and seventy `+` in a ups.conf value ran regcomp out of memory;
// `x{1,32767}` took 18 s and 8 GB.
TEST(RegexCost, RepeatedRepetitionsAndLargeCountsAreRefused) {
  EXPECT_EQ(costly_regex("0" + std::string(70, '+')), "a repetition is repeated (as in 'a++')");
  EXPECT_EQ(costly_regex("x*?"), "a repetition is repeated (as in 'a++')");
  EXPECT_EQ(costly_regex("(x{1,30}){1,30}"), "a repeated expression holds a repetition (as in '(a+)*')");
  EXPECT_EQ(costly_regex("((a|b)+c)*"), "a repeated expression holds a repetition (as in '(a+)*')");
  EXPECT_EQ(costly_regex("x{1,32767}"), "a count is above 126 (no USB string is longer)");
  EXPECT_EQ(costly_regex("x{127}"), "a count is above 126 (no USB string is longer)");
  EXPECT_EQ(costly_regex("x{127,}"), "a count is above 126 (no USB string is longer)");
  EXPECT_EQ(costly_regex("x{99999999999999999999999}"), "a count is above 126 (no USB string is longer)");
}

TEST(RegexCost, RepeatingWhatCanMatchNothingIsRefused) {
  for (const char* empty : {"(a|)*", "(|a){1,5}", "()+", "(^)*", "($|x)?", "(\\b)*", "(a?)+"}) {
    EXPECT_NE(costly_regex(empty), "") << empty;
  }
  EXPECT_EQ(costly_regex("(a|){1,5}"), "a repeated expression can match nothing (as in '(a|)*')");
}

TEST(RegexCost, BackReferencesAreRefused) {
  EXPECT_EQ(costly_regex("(a)\\1"), "a back-reference makes matching exponential");
  EXPECT_EQ(costly_regex("[\\1]"), "") << "inside brackets a backslash is a member";
}

TEST(RegexCost, ManyLongOptionalChainsAreRefused) {
  std::string chains;
  for (int i = 0; i < 9; ++i) chains += ".{0,126}";
  EXPECT_EQ(costly_regex(chains), "it expands to more than 1024 nodes");
  EXPECT_EQ(costly_regex(".{0,126}.{0,126}"), "");
  EXPECT_EQ(costly_regex("(abcdefghij){0,126}"), "it expands to more than 1024 nodes");
}

}  // namespace
}  // namespace usbrecover
