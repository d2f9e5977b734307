// SPDX-License-Identifier: MIT
// The guarantee: whatever fails or interrupts a run, nothing is left off and no intent remains;
// and while something is off, its intent is on disk.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <fstream>
#include <functional>
#include <sstream>

#include "act/executor.hpp"
#include "fake_effects.hpp"
#include "sample.hpp"
#include "temp_dir.hpp"

namespace usbrecover {
namespace {

using test::FakeEffects;
using test::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kDevice = "1-1.2 0665:5161";

struct Case {
  std::string name;
  Plan plan;
};

std::vector<Case> all_plans() {
  std::vector<Case> out;
  Snapshot s = test::ups_snapshot();
  s.device.interfaces.push_back(test::iface("1-1.2:1.1", "cdc_acm"));
  for (Method m : kAllMethods) {
    // A warm reset exists only at SuperSpeed: a disk on the hub's SuperSpeed half.
    auto p = plan_method(m == Method::WarmReset ? test::superspeed_snapshot() : s, m);
    if (!p.ok()) std::abort();
    out.push_back({std::string(to_string(m)), *p});
  }
  Snapshot d = s;
  d.port->disabled = false;
  auto p = plan_method(d, Method::PortPower);
  if (!p.ok()) std::abort();
  out.push_back({"port-power-disable", *p});
  return out;
}

// Fallible calls a clean run makes for its steps (pauses do not count), after its holds.
std::size_t fallible_calls(const Plan& p) {
  std::size_t n = 0;
  for (const Step& s : p.steps) n += s.action.kind == Action::Kind::Pause ? 0 : 1;
  return n;
}

std::vector<std::string> expected_log(const Plan& p) {
  std::vector<std::string> out;
  for (const auto& node : p.keep_resumed) out.push_back("hold-resumed " + node);
  for (const Step& s : p.steps) {
    out.push_back(s.action.kind == Action::Kind::Pause
                      ? "pause " + std::to_string(s.action.duration.count()) + "ms"
                      : to_string(s.action));
  }
  return out;
}

class Guarantee : public ::testing::TestWithParam<Case> {};

TEST_P(Guarantee, CleanRunDoesExactlyThePlanAndLeavesNothing) {
  const Plan& plan = GetParam().plan;
  TempDir dir;
  IntentJournal journal(dir.path());
  FakeEffects fx;
  fx.start_all_on(plan);
  FakeEffects before = fx;
  RunReport r = execute(plan, fx, journal, kDevice);
  EXPECT_TRUE(r.ok()) << r.error->message();
  EXPECT_EQ(fx.log(), expected_log(plan));
  EXPECT_TRUE(fx == before);
  EXPECT_THAT(dir.files("intents"), IsEmpty());
}

TEST_P(Guarantee, EveryFailingStepLeavesNothingOff) {
  const Plan& plan = GetParam().plan;
  const std::size_t holds = plan.keep_resumed.size();
  for (std::size_t n = 1; n <= fallible_calls(plan); ++n) {
    for (int err : {EIO, EPIPE, EACCES}) {
      TempDir dir;
      IntentJournal journal(dir.path());
      FakeEffects fx;
      fx.start_all_on(plan);
      FakeEffects before = fx;
      fx.fail_call(holds + n, err);
      RunReport r = execute(plan, fx, journal, kDevice);
      ASSERT_FALSE(r.ok()) << "call " << n;
      EXPECT_EQ(r.error->errnum, err);
      EXPECT_FALSE(r.stopped);
      EXPECT_THAT(r.left_off, IsEmpty()) << "call " << n;
      EXPECT_TRUE(fx == before) << "call " << n << " left something off";
      EXPECT_THAT(dir.files("intents"), IsEmpty()) << "call " << n;
    }
  }
}

TEST_P(Guarantee, AStopAtEveryStepLeavesNothingOff) {
  const Plan& plan = GetParam().plan;
  for (std::size_t k = 0; k <= plan.steps.size(); ++k) {
    TempDir dir;
    IntentJournal journal(dir.path());
    FakeEffects fx;
    fx.start_all_on(plan);
    FakeEffects before = fx;
    bool raised = k == 0;
    const std::size_t holds = plan.keep_resumed.size();
    fx.after_call = [&](const std::vector<std::string>& log) {
      raised = raised || (log.size() >= holds && log.size() - holds >= k);
    };
    StopCheck stop = [&]() -> std::optional<std::string> {
      if (raised) return "interrupted by SIGTERM";
      return std::nullopt;
    };
    RunReport r = execute(plan, fx, journal, kDevice, stop);
    if (k < plan.steps.size()) {
      ASSERT_FALSE(r.ok()) << "stop after " << k;
      EXPECT_TRUE(r.stopped);
      EXPECT_EQ(r.error->reason, "interrupted by SIGTERM before '" + to_string(plan.steps[k].action) + "'");
    } else {
      EXPECT_TRUE(r.ok());
    }
    EXPECT_THAT(r.left_off, IsEmpty());
    EXPECT_TRUE(fx == before) << "stop after " << k << " left something off";
    EXPECT_THAT(dir.files("intents"), IsEmpty());
  }
}

TEST_P(Guarantee, WhileSomethingIsOffItsIntentIsOnDisk) {
  const Plan& plan = GetParam().plan;
  TempDir dir;
  IntentJournal journal(dir.path());
  FakeEffects fx;
  std::vector<std::size_t> counts;
  fx.after_call = [&](const std::vector<std::string>&) { counts.push_back(dir.files("intents").size()); };
  ASSERT_TRUE(execute(plan, fx, journal, kDevice).ok());
  // After each call: as many intents as things turned off and not yet back on.
  std::vector<std::size_t> want(plan.keep_resumed.size(), 0);  // holding a hub turns nothing off
  std::size_t off = 0;
  for (const Step& s : plan.steps) {
    if (s.undo) ++off;
    // Seen from inside the call: an "on" step's intent is removed only once the call returned.
    want.push_back(off);
    for (const Step& o : plan.steps) {
      if (o.undo && *o.undo == s.action) --off;
    }
  }
  EXPECT_EQ(counts, want);
}

INSTANTIATE_TEST_SUITE_P(Executor, Guarantee, ::testing::ValuesIn(all_plans()), [](const auto& param_info) {
  std::string n = param_info.param.name;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
});

TEST(Executor, IntentHoldsTheUndoLine) {
  Snapshot s = test::ups_snapshot();
  auto plan = plan_method(s, Method::Authorize);
  ASSERT_TRUE(plan.ok());
  TempDir dir;
  IntentJournal journal(dir.path());
  FakeEffects fx;
  std::string seen;
  fx.after_call = [&](const std::vector<std::string>& log) {
    if (log.size() != 1) return;
    auto files = dir.files("intents");
    ASSERT_EQ(files.size(), 1u);
    std::ifstream in(dir.path() + "/intents/" + files[0]);
    std::stringstream ss;
    ss << in.rdbuf();
    seen = ss.str();
  };
  ASSERT_TRUE(execute(*plan, fx, journal, kDevice).ok());
  EXPECT_EQ(seen, "usbrecover-intent 1\ndevice 1-1.2 0665:5161\nundo write " + s.device.syspath +
                      "/authorized 1\n");
}

TEST(Executor, AFailedUndoKeepsItsIntentForRepair) {
  auto plan = plan_method(test::ups_snapshot(), Method::Authorize);
  ASSERT_TRUE(plan.ok());
  const std::string on = to_string(plan->steps[1].action);
  TempDir dir;
  IntentJournal journal(dir.path());
  FakeEffects fx;
  fx.fail_always(on, ENODEV);
  RunReport r = execute(*plan, fx, journal, kDevice);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->errnum, ENODEV);
  ASSERT_EQ(r.left_off.size(), 1u);
  EXPECT_EQ(to_string(r.left_off[0]), on);
  EXPECT_EQ(r.undo_errors.size(), 1u);
  // Tried in the plan, then once more on the way out.
  EXPECT_THAT(fx.log(), ElementsAre(to_string(plan->steps[0].action), on, on));
  EXPECT_EQ(dir.files("intents").size(), 1u);
}

TEST(Executor, AnOffThatCouldNotHappenLeavesNothingOff) {
  auto plan = plan_method(test::ups_snapshot(), Method::Authorize);
  ASSERT_TRUE(plan.ok());
  const std::string off = to_string(plan->steps[0].action);
  const std::string on = to_string(plan->steps[1].action);
  struct OffCase {
    int off_errno, on_errno;
    bool left_off;
  };
  // The device went away before it could be deauthorized (neither write finds it): nothing is
  // off. An "off" that timed out may have half happened: its failed undo stays for repair.
  for (const OffCase c :
       {OffCase{ENOENT, ENOENT, false}, OffCase{ENODEV, ENODEV, false}, OffCase{ETIMEDOUT, ENOENT, true}}) {
    TempDir dir;
    IntentJournal journal(dir.path());
    FakeEffects fx;
    fx.fail_always(off, c.off_errno);
    fx.fail_always(on, c.on_errno);
    RunReport r = execute(*plan, fx, journal, kDevice);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error->errnum, c.off_errno);
    EXPECT_EQ(r.left_off.size(), c.left_off ? 1u : 0u) << c.off_errno;
    EXPECT_THAT(fx.log(), ElementsAre(off, on));  // the "on" is tried either way
    EXPECT_EQ(dir.files("intents").size(), c.left_off ? 1u : 0u) << c.off_errno;
  }
}

TEST(Executor, RebindTriesEveryOtherBindWhenOneFails) {
  Snapshot s = test::ups_snapshot();
  s.device.interfaces.push_back(test::iface("1-1.2:1.1", "cdc_acm"));
  auto plan = plan_method(s, Method::Rebind);
  ASSERT_TRUE(plan.ok());
  TempDir dir;
  IntentJournal journal(dir.path());
  FakeEffects fx;
  fx.start_all_on(*plan);
  fx.fail_always("write /sys/bus/usb/drivers/cdc_acm/bind 1-1.2:1.1", EBUSY);
  RunReport r = execute(*plan, fx, journal, kDevice);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(fx.bound.at("1-1.2:1.0"), "usbhid");  // the other interface is back
  EXPECT_EQ(fx.bound.count("1-1.2:1.1"), 0u);
  ASSERT_EQ(r.left_off.size(), 1u);
  EXPECT_EQ(r.left_off[0].value, "1-1.2:1.1");
  EXPECT_EQ(dir.files("intents").size(), 1u);
}

TEST(Executor, NothingIsTurnedOffWhenTheJournalCannotBeWritten) {
  auto plan = plan_method(test::ups_snapshot(), Method::Authorize);
  ASSERT_TRUE(plan.ok());
  TempDir dir;
  std::ofstream(dir.path() + "/state") << "a file, not a directory";
  IntentJournal journal(dir.path() + "/state");
  FakeEffects fx;
  RunReport r = execute(*plan, fx, journal, kDevice);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(fx.log(), IsEmpty());
}

TEST(Executor, StepsWithoutUndoNeedNoJournal) {
  auto plan = plan_method(test::ups_snapshot(), Method::Device);
  ASSERT_TRUE(plan.ok());
  IntentJournal journal("/nonexistent/usbrecover-state");
  FakeEffects fx;
  EXPECT_TRUE(execute(*plan, fx, journal, kDevice).ok());
  EXPECT_THAT(fx.log(), ElementsAre("reset /dev/bus/usb/001/004"));
}

/// Runs `check` for every plan that keeps hubs resumed, with a fresh journal and effects that
/// start with everything on.
void for_each_plan_that_holds_hubs(
    const std::function<void(const Case&, IntentJournal&, FakeEffects&)>& check) {
  for (const Case& c : all_plans()) {
    if (c.plan.keep_resumed.empty()) continue;
    TempDir dir;
    IntentJournal journal(dir.path());
    FakeEffects fx;
    fx.start_all_on(c.plan);
    check(c, journal, fx);
  }
}

TEST(Executor, PortPowerHoldsItsHubsResumedBeforeTheFirstStep) {
  for_each_plan_that_holds_hubs([](const Case& c, IntentJournal& journal, FakeEffects& fx) {
    RunReport r = execute(c.plan, fx, journal, kDevice);
    ASSERT_TRUE(r.ok()) << c.name;
    ASSERT_GE(fx.log().size(), c.plan.keep_resumed.size()) << c.name;
    for (std::size_t i = 0; i < c.plan.keep_resumed.size(); ++i)
      EXPECT_EQ(fx.log()[i], "hold-resumed " + c.plan.keep_resumed[i]) << c.name;
    EXPECT_THAT(r.not_held, IsEmpty()) << c.name;
  });
}

TEST(Executor, AHubThatCannotBeHeldIsReportedAndTheRunGoesOn) {
  for_each_plan_that_holds_hubs([](const Case& c, IntentJournal& journal, FakeEffects& fx) {
    FakeEffects before = fx;
    fx.fail_always("hold-resumed " + c.plan.keep_resumed[0], ENOENT);
    RunReport r = execute(c.plan, fx, journal, kDevice);
    EXPECT_TRUE(r.ok()) << c.name;
    ASSERT_EQ(r.not_held.size(), 1u) << c.name;
    EXPECT_THAT(r.not_held[0], HasSubstr("cannot keep hub " + c.plan.keep_resumed[0] + " resumed")) << c.name;
    EXPECT_TRUE(fx == before) << c.name;
  });
}

}  // namespace
}  // namespace usbrecover
