// SPDX-License-Identifier: MIT
#include "decide/planner.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixtures.hpp"

namespace usbrecover {
namespace {

using ::testing::Contains;
using testing::disk_at_superspeed;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::tried;
using testing::ups_alone_on_hub;
using testing::ups_behind_hub;

constexpr EpochMs kNow = 1'800'000'000'000;  // a fixed "now"; the planner has no clock
constexpr EpochMs kMinute = 60'000;

ProbeResult failed_probe() {
  return {ProbeResult::State::Failed, "GET_STATUS timed out"};
}
ProbeResult healthy_probe() {
  return {ProbeResult::State::Healthy, "GET_STATUS answered"};
}

Decision decide_for(const Snapshot& s, const Policy& p, const History& h, Trigger t, ProbeResult probe,
                    EpochMs now = kNow) {
  return decide(PlannerInput{s, p, h, t, std::move(probe), now, {}});
}

Attempt failed_attempt(Method m, EpochMs at) {
  return {at, m, false, "not back"};
}

TEST(Planner, LeavesAHealthyDeviceAlone) {
  auto d = decide_for(ups_alone_on_hub(), Policy{}, {}, Trigger::Add, healthy_probe());
  EXPECT_EQ(d.verdict, Decision::Verdict::Leave);
  EXPECT_EQ(d.summary, "leave it: the probe answered (GET_STATUS answered)");
  EXPECT_TRUE(tried(d).empty());
  EXPECT_EQ(d.ladder.size(), Policy{}.methods.size()) << "explain still shows the whole ladder";
}

// Regression (security): a device whose authorized is 0 (USBGuard, authorized_default=0, an
// admin) was probed, found unresponsive and "recovered" up to `authorize`, which wrote 1 and
// bound its drivers. Whatever the trigger and the history, it is left alone, and no method of
// the ladder is even planned.
TEST(Planner, NeverTouchesADeviceTheAuthorizationPolicyBlocked) {
  Snapshot s = ups_alone_on_hub();
  s.device.authorized = false;
  History h;
  h.services.push_back({kNow - kMinute, "nut-driver@ups.service", true, "exit-code", "exited", "1"});
  for (Trigger t : {Trigger::Manual, Trigger::Add, Trigger::ServiceStart, Trigger::ServiceStop}) {
    auto d = decide_for(s, Policy{}, h, t, failed_probe());
    EXPECT_EQ(d.verdict, Decision::Verdict::Leave) << to_string(t);
    EXPECT_EQ(d.summary,
              "leave it: 1-1.2 is not authorized (authorized = 0): blocked by the USB authorization policy "
              "(USBGuard, authorized_default or an administrator), which usbrecover does not override")
        << to_string(t);
    EXPECT_TRUE(tried(d).empty()) << to_string(t);
    for (const auto& r : d.ladder) {
      EXPECT_THAT(r.why, HasSubstr("blocked by the USB authorization policy")) << to_string(r.method);
      EXPECT_TRUE(r.plan.steps.empty()) << to_string(r.method);
    }
  }
}

TEST(Planner, LeavesADeviceWithoutProbeOnAdd) {
  auto d = decide_for(ups_alone_on_hub(), Policy{}, {}, Trigger::Add, {});
  EXPECT_EQ(d.verdict, Decision::Verdict::Leave);
  EXPECT_EQ(d.summary, "leave it: no probe is configured, so there is nothing to check");
}

TEST(Planner, FirstFailureStartsAtTheFirstMethod) {
  auto d = decide_for(ups_alone_on_hub(), Policy{}, {}, Trigger::Add, failed_probe());
  EXPECT_EQ(d.verdict, Decision::Verdict::Recover);
  EXPECT_EQ(d.summary, "recover: the probe failed (GET_STATUS timed out); start with device");
  EXPECT_THAT(tried(d), ElementsAre(Method::Device, Method::Rebind, Method::Authorize));
  EXPECT_EQ(d.budget_left, 3u);
  // A USB 2.0 port has no warm reset: the rung says so and takes nothing from the budget.
  EXPECT_EQ(
      d.ladder[1].why,
      "1-1.2 is on port 2 of 1-1, a USB 2.0 hub: a warm reset (BH_PORT_RESET) exists only on SuperSpeed "
      "ports");
  EXPECT_EQ(d.ladder[4].why, "over the budget of 3 per 1h");
}

// Issue 15: at SuperSpeed the built-in ladder tries the warm reset right after the hot reset,
// before any driver is unbound.
TEST(Planner, SuperSpeedDeviceGetsAWarmResetRightAfterTheDeviceReset) {
  auto d = decide_for(disk_at_superspeed(), Policy{}, {}, Trigger::Add, failed_probe());
  EXPECT_EQ(d.verdict, Decision::Verdict::Recover);
  EXPECT_THAT(tried(d), ElementsAre(Method::Device, Method::WarmReset, Method::Rebind));
  EXPECT_EQ(d.ladder[1].why, "disturbs no other device");
  ASSERT_EQ(d.ladder[1].plan.steps.size(), 2u);
  EXPECT_EQ(to_string(d.ladder[1].plan.steps[0].action), "warm-reset /dev/bus/usb/002/001 4");
  EXPECT_EQ(to_string(d.ladder[1].plan.steps[1].action), "reset /dev/bus/usb/002/002");
}

// The driver's own USB reset is a hot reset: a service that keeps failing starts at the warm
// reset, the first rung stronger than that.
TEST(Planner, ServiceThatKeepsFailingAtSuperSpeedStartsWithAWarmReset) {
  History h;
  h.services = {{kNow - 3 * kMinute, "app.service", true, "exit-code", "exited", "1"},
                {kNow - kMinute, "app.service", true, "exit-code", "exited", "1"}};
  auto d = decide_for(disk_at_superspeed(), Policy{}, h, Trigger::ServiceStart, healthy_probe());
  EXPECT_EQ(tried(d).front(), Method::WarmReset);
}

TEST(Planner, EscalatesAboveMethodsThatFailedRecently) {
  History h;
  h.attempts = {failed_attempt(Method::Device, kNow - 10 * kMinute)};
  auto d = decide_for(ups_alone_on_hub(), Policy{}, h, Trigger::Add, failed_probe());
  EXPECT_EQ(d.verdict, Decision::Verdict::Recover);
  EXPECT_EQ(tried(d).front(), Method::Rebind);
  EXPECT_THAT(d.reasons, ElementsAre("the probe failed (GET_STATUS timed out)",
                                     "device already failed 10m ago: start above it"));
  EXPECT_EQ(d.ladder[0].why, "skipped: it already failed recently");

  h.attempts.push_back(failed_attempt(Method::Rebind, kNow - 5 * kMinute));
  d = decide_for(ups_alone_on_hub(), Policy{}, h, Trigger::Add, failed_probe());
  EXPECT_THAT(tried(d), ElementsAre(Method::Authorize));
}

TEST(Planner, EscalatesToPortPowerAfterTwoFailedResets) {
  Policy p;
  p.methods = {Method::Device, Method::PortPower};
  p.max_resets = 5;
  History h;
  h.attempts = {failed_attempt(Method::Device, kNow - 20 * kMinute),
                failed_attempt(Method::Device, kNow - 10 * kMinute)};
  auto d = decide_for(ups_alone_on_hub(), p, h, Trigger::Add, failed_probe());
  ASSERT_THAT(tried(d), ElementsAre(Method::PortPower));
  EXPECT_EQ(d.ladder[1].plan.steps.size(), 3u);  // disable 1, pause, disable 0
}

TEST(Planner, FailuresOutsideTheWindowAreForgotten) {
  History h;
  h.attempts = {failed_attempt(Method::Device, kNow - 2 * 60 * kMinute)};
  auto d = decide_for(ups_alone_on_hub(), Policy{}, h, Trigger::Add, failed_probe());
  EXPECT_EQ(tried(d).front(), Method::Device);
}

TEST(Planner, RefusesInsideTheCooldownAndSaysWhen) {
  History h;
  h.attempts = {{kNow - 10'000, Method::Device, true, "verified"}};
  auto d = decide_for(ups_alone_on_hub(), Policy{}, h, Trigger::Add, failed_probe());
  EXPECT_EQ(d.verdict, Decision::Verdict::Refuse);
  EXPECT_EQ(d.summary,
            "refuse: the last recovery was 10s ago, inside the cooldown of 30s; next allowed in 20s");
  EXPECT_EQ(d.next_allowed, kNow + 20'000);
  EXPECT_TRUE(tried(d).empty());
}

TEST(Planner, RefusesOverTheBudgetAndSaysWhen) {
  History h;
  for (int i = 0; i < 3; ++i)
    h.attempts.push_back(failed_attempt(Method::Device, kNow - (50 - 10 * i) * kMinute));
  auto d = decide_for(ups_alone_on_hub(), Policy{}, h, Trigger::Add, failed_probe());
  EXPECT_EQ(d.verdict, Decision::Verdict::Refuse);
  EXPECT_EQ(d.summary, "refuse: 3 recoveries in the last 1h (max_resets = 3); next allowed in 10m");
  EXPECT_EQ(d.next_allowed, kNow + 10 * kMinute);
  EXPECT_EQ(d.budget_left, 0u);
}

TEST(Planner, BudgetLimitsHowManyRungsOneRunMayClimb) {
  History h;
  h.attempts = {failed_attempt(Method::Device, kNow - 30 * kMinute),
                failed_attempt(Method::Rebind, kNow - 20 * kMinute)};
  auto d = decide_for(ups_alone_on_hub(), Policy{}, h, Trigger::Add, failed_probe());
  EXPECT_EQ(d.budget_left, 1u);
  EXPECT_THAT(tried(d), ElementsAre(Method::Authorize));
}

TEST(Planner, MaxResetsZeroTurnsRecoveryOff) {
  Policy p;
  p.max_resets = 0;
  auto d = decide_for(ups_alone_on_hub(), p, {}, Trigger::Add, failed_probe());
  EXPECT_EQ(d.verdict, Decision::Verdict::Refuse);
  EXPECT_EQ(d.summary, "refuse: max_resets is 0, recovery is off for this device");
}

TEST(Planner, RefusesCollateralNamingTheDevices) {
  Policy p;
  p.methods = {Method::Hub};
  auto d = decide_for(ups_behind_hub(), p, {}, Trigger::Add, failed_probe());
  EXPECT_EQ(d.verdict, Decision::Verdict::Refuse);
  EXPECT_EQ(d.summary, "refuse: no method of the policy can be used on this device");
  EXPECT_EQ(d.ladder[0].why,
            "would also disturb 1-1.3 (0781:5567 Cruzer, mounted on /media/usb); the policy does not allow "
            "collateral"
            " (a mounted filesystem may lose data)");
  // The journal line carries the reasons: what stands in the way is said there too.
  EXPECT_THAT(d.reasons, Contains("hub: " + d.ladder[0].why));
}

TEST(Planner, SkipsCollateralMethodsButClimbsPastThem) {
  Policy p;
  p.methods = {Method::Hub, Method::Controller, Method::PortPower};
  auto d = decide_for(ups_behind_hub(), p, {}, Trigger::Add, failed_probe());
  EXPECT_EQ(d.verdict, Decision::Verdict::Recover);
  EXPECT_THAT(tried(d), ElementsAre(Method::PortPower));
  EXPECT_THAT(d.ladder[1].why, HasSubstr("1-4 (046d:c31c)"));
}

TEST(Planner, AllowsCollateralWhenThePolicySays) {
  Policy p;
  p.methods = {Method::Hub};
  p.allow_collateral = true;
  auto d = decide_for(ups_behind_hub(), p, {}, Trigger::Add, failed_probe());
  EXPECT_EQ(d.verdict, Decision::Verdict::Recover);
  EXPECT_EQ(d.ladder[0].why, "disturbs 1 other device(s); the policy allows collateral");
}

// A dead controller answers nothing below it: of the whole ladder only a rebind can reach the
// device, and only with collateral allowed, since it re-enumerates everything on the controller.
TEST(Planner, ADeadControllerIsRecoveredByARebindOnlyWithCollateralAllowed) {
  Policy p;
  p.methods = {Method::Device, Method::PortPower, Method::Controller};
  auto refused = decide_for(testing::ups_on_a_dead_controller(), p, {}, Trigger::ControllerDied, {});
  EXPECT_EQ(refused.verdict, Decision::Verdict::Refuse);
  EXPECT_EQ(refused.reasons.front(),
            "host controller 0000:00:14.0 died and took the device on port 1-1.2 with it");
  EXPECT_EQ(refused.ladder[0].why,
            "host controller 0000:00:14.0 is dead: only binding it to its driver again reaches the device");
  EXPECT_EQ(refused.ladder[2].why,
            "a rebind re-enumerates every device on host controller 0000:00:14.0; the policy does not allow "
            "collateral");
  EXPECT_THAT(refused.reasons, Contains("controller: " + refused.ladder[2].why));

  p.allow_collateral = true;
  auto d = decide_for(testing::ups_on_a_dead_controller(), p, {}, Trigger::ControllerDied, {});
  EXPECT_EQ(d.verdict, Decision::Verdict::Recover);
  EXPECT_THAT(tried(d), ElementsAre(Method::Controller));
  EXPECT_EQ(d.ladder[2].plan.steps.size(), 2U) << "unbind, then bind";
}

TEST(Planner, ADeadControllerStillKeepsTheBudget) {
  Policy p;
  p.methods = {Method::Controller};
  p.allow_collateral = true;
  p.max_resets = 2;
  History h;
  h.attempts = {failed_attempt(Method::Controller, kNow - 20 * kMinute),
                failed_attempt(Method::Controller, kNow - 10 * kMinute)};
  auto d = decide_for(testing::ups_on_a_dead_controller(), p, h, Trigger::ControllerDied, {});
  EXPECT_EQ(d.verdict, Decision::Verdict::Refuse);
  EXPECT_THAT(d.summary, HasSubstr("2 recoveries in the last 1h (max_resets = 2)"));
  EXPECT_EQ(to_string(Trigger::ControllerDied), "controller-died");
  EXPECT_EQ(trigger_from_string("controller-died"), Trigger::ControllerDied);
}

TEST(Planner, StopsAtTheTopOfTheLadderWithAFinalError) {
  Policy p;
  p.methods = {Method::Device, Method::Authorize};
  p.max_resets = 10;
  History h;
  h.attempts = {failed_attempt(Method::Device, kNow - 20 * kMinute),
                failed_attempt(Method::Authorize, kNow - 10 * kMinute)};
  auto d = decide_for(ups_alone_on_hub(), p, h, Trigger::Add, failed_probe());
  EXPECT_EQ(d.verdict, Decision::Verdict::Refuse);
  EXPECT_EQ(d.summary,
            "refuse: every method of the policy already failed in the last 1h; the device needs a person");
}

TEST(Planner, ReportsAMethodThatCannotApply) {
  Snapshot s = ups_alone_on_hub();
  s.hub->switching = PowerSwitching::None;
  Policy p;
  p.methods = {Method::PortPower, Method::Device};
  auto d = decide_for(s, p, {}, Trigger::Add, failed_probe());
  EXPECT_EQ(d.ladder[0].why, "hub 1-1 does not switch port power");
  EXPECT_THAT(tried(d), ElementsAre(Method::Device));
}

TEST(Planner, ServiceStartRecoversWhenTheLastRunFailedEvenIfTheProbeAnswers) {
  History h;
  h.services = {{kNow - kMinute, "nut-driver@myups.service", true, "exit-code", "exited", "1"}};
  auto d = decide_for(ups_alone_on_hub(), Policy{}, h, Trigger::ServiceStart, healthy_probe());
  EXPECT_EQ(d.verdict, Decision::Verdict::Recover);
  EXPECT_EQ(d.summary,
            "recover: the last run of nut-driver@myups.service failed 1m ago (exit-code, status 1); start "
            "with device");
}

TEST(Planner, ServiceStartLeavesAWellDeviceAndAGoodLastRun) {
  History h;
  h.services = {{kNow - kMinute, "nut-driver@myups.service", false, "success", "exited", "0"}};
  auto d = decide_for(ups_alone_on_hub(), Policy{}, h, Trigger::ServiceStart, healthy_probe());
  EXPECT_EQ(d.verdict, Decision::Verdict::Leave);
  EXPECT_EQ(d.summary,
            "leave it: the probe answered (GET_STATUS answered) and the service's last run did not fail");
}

TEST(Planner, ServiceThatKeepsFailingSkipsTheDeviceReset) {
  History h;
  h.services = {{kNow - 3 * kMinute, "nut-driver@myups.service", true, "exit-code", "exited", "1"},
                {kNow - kMinute, "nut-driver@myups.service", true, "exit-code", "exited", "1"}};
  auto d = decide_for(ups_alone_on_hub(), Policy{}, h, Trigger::ServiceStart, healthy_probe());
  EXPECT_EQ(tried(d).front(), Method::Rebind);
  EXPECT_THAT(d.reasons.back(), HasSubstr("failed 2 times in a row"));
}

TEST(Planner, ClimbsAboveARecoveryThatDidNotLast) {
  History h;
  h.attempts = {{kNow - 5 * kMinute, Method::Device, true, "verified"}};
  h.services = {{kNow - 2 * kMinute, "nut-driver@myups.service", true, "exit-code", "exited", "1"}};
  auto d = decide_for(ups_alone_on_hub(), Policy{}, h, Trigger::ServiceStart, healthy_probe());
  EXPECT_EQ(d.verdict, Decision::Verdict::Recover);
  EXPECT_EQ(tried(d).front(), Method::Rebind);
}

TEST(Planner, ServiceStopNeverActs) {
  auto d = decide_for(ups_alone_on_hub(), Policy{}, {}, Trigger::ServiceStop, failed_probe());
  EXPECT_EQ(d.verdict, Decision::Verdict::Leave);
}

TEST(Planner, OwnReenumerationDoesNotLoop) {
  // A port power cycle re-enumerates the device: udev sends `add` right after our recovery.
  History h;
  h.attempts = {{kNow - 2'000, Method::PortPower, true, "verified"}};
  auto healthy = decide_for(ups_alone_on_hub(), Policy{}, h, Trigger::Add, healthy_probe());
  EXPECT_EQ(healthy.verdict, Decision::Verdict::Leave);
  auto sick = decide_for(ups_alone_on_hub(), Policy{}, h, Trigger::Add, failed_probe());
  EXPECT_EQ(sick.verdict, Decision::Verdict::Refuse);
}

TEST(Planner, AStormOfAddEventsNeverExceedsTheBudget) {
  // 1,000 `add` triggers for one device within a minute, the device never getting better:
  // each decision that says recover is carried out (every usable rung fails), as `handle` would.
  Policy p;
  History h;
  unsigned recoveries = 0;
  for (int i = 0; i < 1000; ++i) {
    EpochMs now = kNow + i * 60;
    auto d = decide_for(ups_alone_on_hub(), p, h, Trigger::Add, failed_probe(), now);
    for (Method m : tried(d)) {
      h.attempts.push_back(failed_attempt(m, now));
      ++recoveries;
    }
  }
  EXPECT_EQ(recoveries, p.max_resets);
}

TEST(Planner, ReasonsRoundOldTimesToSeconds) {
  History h;
  h.attempts = {failed_attempt(Method::Device, kNow - 754'321)};
  auto d = decide_for(ups_alone_on_hub(), Policy{}, h, Trigger::Add, failed_probe());
  EXPECT_EQ(d.reasons.back(), "device already failed 12m34s ago: start above it");
}

TEST(Planner, TriggerNamesRoundTrip) {
  for (auto t : {Trigger::Manual, Trigger::Add, Trigger::ServiceStart, Trigger::ServiceStop})
    EXPECT_EQ(trigger_from_string(to_string(t)), t);
  EXPECT_EQ(trigger_from_string("bind"), std::nullopt);
}

}  // namespace
}  // namespace usbrecover
