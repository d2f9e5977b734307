// SPDX-License-Identifier: MIT
// Issue 14 ("time to recovered"): the planner starts at the rung that cured the device the last
// times, within every rule the ladder keeps, and falls back to the bottom once it stops working.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "decide/planner.hpp"
#include "decide/remembered_cure.hpp"
#include "fixtures.hpp"

namespace usbrecover {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::tried;
using testing::ups_alone_on_hub;
using testing::ups_behind_hub;

constexpr EpochMs kNow = 1'800'000'000'000;  // 2027-01-15 08:00:00 UTC; the planner has no clock
constexpr EpochMs kMinute = 60'000;
constexpr EpochMs kDay = 24 * 60 * kMinute;

ProbeResult failed_probe() {
  return {ProbeResult::State::Failed, "GET_STATUS timed out"};
}

Decision decide_for(const Snapshot& s, const Policy& p, const History& h, EpochMs now = kNow) {
  return decide(PlannerInput{s, p, h, Trigger::Add, failed_probe(), now, {}});
}

Attempt failed(Method m, EpochMs at) {
  return {at, m, false, "not back"};
}
Attempt cured(Method m, EpochMs at) {
  return {at, m, true, "verified"};
}

/// The built-in ladder's climb to port-power on a USB 2.0 port: device, rebind and authorize
/// fail, and once their window has passed, port-power cures the device at `at`.
std::vector<Attempt> climb_to_port_power(EpochMs at) {
  return {failed(Method::Device, at - 70 * kMinute), failed(Method::Rebind, at - 69 * kMinute),
          failed(Method::Authorize, at - 68 * kMinute), cured(Method::PortPower, at)};
}

TEST(Planner, StartsAtTheRungThatCuredTheDeviceLastTime) {
  History h;
  h.attempts = climb_to_port_power(kNow - 2 * kDay);
  auto d = decide_for(ups_alone_on_hub(), Policy{}, h);
  EXPECT_EQ(d.verdict, Decision::Verdict::Recover);
  EXPECT_EQ(d.summary, "recover: the probe failed (GET_STATUS timed out); start with port-power");
  EXPECT_THAT(tried(d), ElementsAre(Method::PortPower, Method::Hub));
  EXPECT_THAT(d.reasons, ElementsAre("the probe failed (GET_STATUS timed out)",
                                     "start at port-power: it cured this device at 2027-01-13 08:00:00 UTC; "
                                     "before it, device, rebind and authorize had failed (if it fails, the "
                                     "next recovery starts from the bottom again)"));
  EXPECT_EQ(d.ladder[0].why, "skipped: port-power cured this device the last time");
  EXPECT_THAT(d.ladder[1].why, HasSubstr("a USB 2.0 hub")) << "an unusable rung keeps its own reason";
  ASSERT_TRUE(d.remembered);
  EXPECT_EQ(d.remembered->method, Method::PortPower);
  EXPECT_TRUE(d.starts_at_remembered);

  // Each further cure renews it; the newest is named first.
  h.attempts.push_back(cured(Method::PortPower, kNow - kDay));
  d = decide_for(ups_alone_on_hub(), Policy{}, h);
  EXPECT_THAT(tried(d).front(), Method::PortPower);
  EXPECT_THAT(d.reasons[1], HasSubstr("at 2027-01-14 08:00:00 UTC and 2027-01-13 08:00:00 UTC;"));
}

TEST(Planner, FallsBackToTheBottomAfterTheRememberedRungFailsOnce) {
  History h;
  h.attempts = climb_to_port_power(kNow - 2 * kDay);
  // The last run started at port-power, which failed, and nothing above it could be used.
  History alone = h;
  alone.attempts.push_back(failed(Method::PortPower, kNow - 2 * 60 * kMinute));
  EXPECT_THAT(tried(decide_for(ups_alone_on_hub(), Policy{}, alone)),
              ElementsAre(Method::Device, Method::Rebind, Method::Authorize));

  // The last run started at port-power, which did not cure the device; hub did.
  h.attempts.push_back(failed(Method::PortPower, kNow - 2 * 60 * kMinute));
  h.attempts.push_back(cured(Method::Hub, kNow - 2 * 60 * kMinute + 30'000));
  auto d = decide_for(ups_alone_on_hub(), Policy{}, h);
  EXPECT_THAT(tried(d), ElementsAre(Method::Device, Method::Rebind, Method::Authorize));
  EXPECT_FALSE(d.remembered);
  EXPECT_FALSE(d.starts_at_remembered);
  EXPECT_THAT(d.reasons, Contains("port-power had cured this device before but failed 2h ago: no longer "
                                  "remembered"));

  // Climbing from the bottom again, port-power cures it: remembered again.
  for (const Attempt& a : climb_to_port_power(kNow - 80 * kMinute)) h.attempts.push_back(a);
  d = decide_for(ups_alone_on_hub(), Policy{}, h);
  EXPECT_EQ(tried(d).front(), Method::PortPower);
}

TEST(Planner, ForgetsACureByTheBottomRungOrWithoutAFailureBelowIt) {
  History h;
  h.attempts = climb_to_port_power(kNow - 2 * kDay);
  h.attempts.push_back(cured(Method::Device, kNow - kDay));
  EXPECT_EQ(tried(decide_for(ups_alone_on_hub(), Policy{}, h)).front(), Method::Device);

  // port-power alone (the port's device could not enumerate, nothing below applied): no
  // evidence that the rungs below it would not have cured the device.
  h.attempts = {cured(Method::PortPower, kNow - kDay)};
  auto d = decide_for(ups_alone_on_hub(), Policy{}, h);
  EXPECT_EQ(tried(d).front(), Method::Device);
  EXPECT_FALSE(d.remembered);
}

TEST(Planner, NeverStartsAboveWhatThePolicyAllows) {
  History h;
  h.attempts = climb_to_port_power(kNow - 2 * kDay);

  // The table no longer lists port-power.
  Policy p;
  p.methods = {Method::Device, Method::Rebind, Method::Authorize, Method::Hub};
  auto d = decide_for(ups_alone_on_hub(), p, h);
  EXPECT_THAT(tried(d), ElementsAre(Method::Device, Method::Rebind, Method::Authorize));
  EXPECT_FALSE(d.remembered);

  // port-power would now disturb a mounted stick (ganged power): not started at, not skipped to
  // the rungs above either.
  Snapshot ganged = ups_behind_hub();
  ganged.hub->switching = PowerSwitching::Ganged;
  ganged.gang_siblings = ganged.hub_siblings;
  d = decide_for(ganged, Policy{}, h);
  EXPECT_THAT(tried(d), ElementsAre(Method::Device, Method::Rebind, Method::Authorize));
  EXPECT_FALSE(d.starts_at_remembered);
  EXPECT_THAT(d.reasons.back(), HasSubstr("not starting at port-power, although it cured this device at "
                                          "2027-01-13 08:00:00 UTC; before it, device, rebind and authorize "
                                          "had failed: it cannot be used now (would also disturb 1-1.3"));

  // An over-current within the window: no rung that powers the port on again.
  History oc = h;
  oc.overcurrents = {{kNow - 10 * kMinute, 1}};
  d = decide_for(ups_alone_on_hub(), Policy{}, oc);
  EXPECT_THAT(tried(d), ElementsAre(Method::Device, Method::Rebind, Method::Authorize));
  EXPECT_THAT(d.reasons.back(), HasSubstr("it cannot be used now (port 1-1.2 reported an over-current"));

  // A device the authorization policy blocks is left alone, memory or not.
  Snapshot blocked = ups_alone_on_hub();
  blocked.device.authorized = false;
  d = decide_for(blocked, Policy{}, h);
  EXPECT_EQ(d.verdict, Decision::Verdict::Leave);
  EXPECT_TRUE(tried(d).empty());
}

TEST(Planner, TheBudgetStillHoldsWhenStartingHigher) {
  History h;
  h.attempts = climb_to_port_power(kNow - 40 * kMinute);  // the cure is in the window
  Policy p;
  p.max_resets = 2;
  auto d = decide_for(ups_alone_on_hub(), p, h);
  EXPECT_EQ(d.budget_left, 1u);
  EXPECT_THAT(tried(d), ElementsAre(Method::PortPower));
  EXPECT_EQ(d.ladder[5].why, "over the budget of 2 per 1h");

  p.max_resets = 1;
  d = decide_for(ups_alone_on_hub(), p, h);
  EXPECT_EQ(d.verdict, Decision::Verdict::Refuse);
  EXPECT_TRUE(tried(d).empty());
  ASSERT_TRUE(d.remembered) << "explain --json still shows what the history remembers";
  EXPECT_FALSE(d.starts_at_remembered);

  // A storm of add events, nothing curing the device any more: no more than max_resets.
  p.max_resets = 3;
  h.attempts = climb_to_port_power(kNow - 2 * kDay);
  unsigned recoveries = 0;
  for (int i = 0; i < 1000; ++i) {
    EpochMs now = kNow + i * 60;
    for (Method m : tried(decide_for(ups_alone_on_hub(), p, h, now))) {
      h.attempts.push_back(failed(m, now));
      ++recoveries;
    }
  }
  EXPECT_GE(recoveries, 1u);
  EXPECT_LE(recoveries, p.max_resets);
}

TEST(Planner, ForgetsACureOlderThanTheRetention) {
  History h;
  h.attempts = climb_to_port_power(kNow - kRememberCure.count() - kMinute);
  auto d = decide_for(ups_alone_on_hub(), Policy{}, h);
  EXPECT_EQ(tried(d).front(), Method::Device);
  EXPECT_FALSE(d.remembered);

  h.attempts = climb_to_port_power(kNow - kRememberCure.count() + kMinute);
  EXPECT_EQ(tried(decide_for(ups_alone_on_hub(), Policy{}, h)).front(), Method::PortPower);
}

TEST(RememberedCure, NamesTheNewestCuresAndTheRungsThatFailedBelow) {
  const std::vector<Method> ladder = Policy{}.methods;
  History h;
  h.attempts = climb_to_port_power(kNow - 4 * kDay);
  for (EpochMs days : {3, 2, 1}) h.attempts.push_back(cured(Method::PortPower, kNow - days * kDay));
  CureMemory m = remembered_cure(h, ladder, kNow);
  ASSERT_TRUE(m.cure);
  EXPECT_EQ(m.cure->cured_at, (std::vector<EpochMs>{kNow - kDay, kNow - 2 * kDay, kNow - 3 * kDay}));
  EXPECT_THAT(m.cure->failed_below, ElementsAre(Method::Device, Method::Rebind, Method::Authorize));
  EXPECT_FALSE(m.lapsed);
  // What happened after `now` is not known yet.
  h.attempts.push_back(failed(Method::PortPower, kNow + 1));
  EXPECT_EQ(remembered_cure(h, ladder, kNow), m);
  // A failure lapses it; the cure that ends that run does not count.
  EXPECT_FALSE(remembered_cure(h, ladder, kNow + 1).cure);
  h.attempts.push_back(cured(Method::Hub, kNow + 2));
  CureMemory after = remembered_cure(h, ladder, kNow + 3);
  EXPECT_FALSE(after.cure);
  ASSERT_TRUE(after.lapsed);
  EXPECT_EQ(after.lapsed->at, kNow + 1);
}

}  // namespace
}  // namespace usbrecover
