// SPDX-License-Identifier: MIT
// The watcher's hand-over requests as `usbrecover handover` (root) reads them from the
// unprivileged watcher: only what the watcher sends gets through, nothing else.
#include "watch/hand_over.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace usbrecover {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string request(const std::vector<std::string>& args) {
  std::string r;
  for (const auto& a : args) r += a + '\0';
  return r;
}

const std::string kUpsConf = "/etc/nut/ups.conf";

TEST(HandOver, TheWatchersRequestsGetThrough) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"handle", "--trigger", "port-failed", "--port", "1-1.2"},
           {"handle", "--trigger", "service-stale", "--unit", "nut-driver@myups.service", "--nut-instance",
            "myups", "--ups-conf", kUpsConf, "--reason", "data stale for 31s"},
           {"handle", "--trigger", "service-stale", "--unit", "nut-driver@MD5_0123.service", "--nut-instance",
            "MD5_0123"},
           {"handle", "--trigger", "controller-died", "--controller", "0000:00:14.0", "--port", "1-3",
            "--property", "USBRECOVER_SCHEMA=1", "--property", "USBRECOVER_NAME=UPS"},
           {"over-current", "1-1.1", "3"},
       }) {
    auto parsed = parse_hand_over(request(args), kUpsConf);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message();
    EXPECT_EQ(*parsed, args);
  }
}

TEST(HandOver, AnythingElseIsRefusedSayingWhy) {
  struct Case {
    std::string request;
    std::string why;
  };
  const std::vector<Case> cases = {
      {"", "is empty"},
      {std::string(kMaxHandOverRequest + 1, 'a'), "longer than 16384 bytes"},
      {"handle", "does not end with a NUL"},
      {request({"reset", "1-1.2", "--method", "controller"}), "is neither"},
      {request({"handle", "--trigger", "add", "--syspath", "/sys/x"}), "trigger 'add' is not one"},
      {request({"handle", "--trigger", "port-failed"}), "'--port' is missing"},
      {request({"handle", "--trigger", "port-failed", "--port"}), "'--port' has no value"},
      {request({"handle", "--trigger", "port-failed", "--port", "1-1", "--port", "1-2"}), "given twice"},
      {request({"handle", "--trigger", "port-failed", "--port", "1-1", "--metrics", "/etc/passwd"}),
       "'--metrics' is not an option of a port-failed hand-over"},
      {request({"handle", "--trigger", "service-stale", "--unit", "ssh.service", "--nut-instance", "myups"}),
       "unit 'ssh.service' is not nut-driver@myups.service"},
      {request({"handle", "--trigger", "service-stale", "--unit", "nut-driver@a.service", "--nut-instance",
                "a", "--ups-conf", "/etc/shadow"}),
       "'--ups-conf' names '/etc/shadow', not /etc/nut/ups.conf"},
      {request({"handle", "--trigger", "service-stale", "--unit", "nut-driver@a.service", "--nut-instance",
                "a", "--reason", "two\nlines"}),
       "has a line break"},
      {request({"handle", "--trigger", "controller-died", "--controller", "x", "--port", "1-3"}),
       "'--property' is missing"},
      {request({"over-current", "../../etc", "1"}), "is not a port path"},
      {request({"over-current", "1-1.1", "-1"}), "is not a count"},
      {request({"over-current", "1-1.1"}), "takes a port and a count"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_hand_over(c.request, kUpsConf);
    ASSERT_FALSE(parsed.ok()) << c.why;
    EXPECT_THAT(parsed.error().message(), HasSubstr(c.why));
    EXPECT_LT(parsed.error().message().size(), 300u) << "quotes the request only in part";
  }
}

TEST(HandOver, AHostileValueIsQuotedShortAndTerminalSafe) {
  auto parsed = parse_hand_over(request({"over-current", "\x1b[2J" + std::string(500, 'x'), "1"}), kUpsConf);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().message().find('\x1b'), std::string::npos);
  EXPECT_THAT(parsed.error().message(), HasSubstr("…"));
}

}  // namespace
}  // namespace usbrecover
