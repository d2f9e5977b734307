// SPDX-License-Identifier: MIT
// The --timings recorder: phases add up under their names, in the order they first ran, and
// the report accounts for the rest as "other".
#include "util/timings.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <thread>

namespace usbrecover {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(Timings, ScopesAddUpByPhaseInTheOrderTheyFirstRan) {
  // Nothing is recorded before enable(): a scope is then only a test of a flag.
  { timings::Scope ignored("before"); }
  timings::enable();
  ASSERT_TRUE(timings::enabled());
  timings::add("snapshot", std::chrono::milliseconds(4));
  timings::add("kernel", std::chrono::milliseconds(200));
  timings::add("snapshot", std::chrono::milliseconds(2));
  {
    timings::Scope s("verification");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::ostringstream out;
  timings::report(out);
  const std::string r = out.str();
  EXPECT_THAT(r, ::testing::StartsWith("timings:\n"));
  EXPECT_THAT(r, Not(HasSubstr("before")));
  EXPECT_THAT(r, HasSubstr("  snapshot                     6.0 ms\n"));
  EXPECT_THAT(r, HasSubstr("  kernel                     200.0 ms\n"));
  EXPECT_THAT(r, ContainsRegex("  verification +[0-9]+\\.[0-9] ms\n"));
  EXPECT_LT(r.find("  snapshot "), r.find("  kernel "));
  EXPECT_LT(r.find("  kernel "), r.find("  verification "));
  // add() takes durations that did not happen in this process, so "other" may be negative
  // here; it is there, and so is the total.
  EXPECT_THAT(r, ContainsRegex("  other +-?[0-9]+\\.[0-9] ms"));
  EXPECT_THAT(r, ContainsRegex("  total +[0-9]+\\.[0-9] ms\n$"));
  // Under Linux the process's start time is known.
  EXPECT_GE(timings::startup_ms(), 0.0);
  EXPECT_THAT(r, HasSubstr("  start-up "));
}

}  // namespace
}  // namespace usbrecover
