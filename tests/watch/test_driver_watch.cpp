// SPDX-License-Identifier: MIT
// The watcher's view of one NUT driver, driven by hand through time.
#include <gtest/gtest.h>

#include "watch/driver_watch.hpp"

namespace usbrecover {
namespace {

using namespace std::chrono_literals;
using State = DriverWatch::State;

struct Fixture {
  DriverWatch w{DriverWatch::Timing{10s, 30s, 10s, 5s}};
  DriverWatch::Time t0{std::chrono::seconds(1000)};
  DriverWatch::Time at(std::chrono::milliseconds d) const { return t0 + d; }
};

TEST(DriverWatch, HealthyThenStaleForStaleAfterIsHandedOverOnce) {
  Fixture f;
  f.w.connected(f.at(0s));
  EXPECT_EQ(f.w.state(f.at(0s)), State::Unknown);
  f.w.driver_line(f.at(100ms), DriverLine::Pong);
  f.w.driver_line(f.at(100ms), DriverLine::DataOk);
  EXPECT_EQ(f.w.state(f.at(1s)), State::Healthy);
  f.w.driver_line(f.at(2s), DriverLine::DataStale);
  EXPECT_EQ(f.w.state(f.at(3s)), State::Stale);
  EXPECT_EQ(f.w.stale_for(f.at(5s)), 3s);
  EXPECT_FALSE(f.w.hand_over_due(f.at(11900ms)));
  EXPECT_EQ(f.w.next_wakeup(), f.at(12s)) << "woken when stale_after runs out";
  EXPECT_TRUE(f.w.hand_over_due(f.at(12s)));
  EXPECT_EQ(f.w.reason(f.at(12500ms)), "data stale for 10s (stale_after 10s)");
  f.w.handed_over();
  EXPECT_FALSE(f.w.hand_over_due(f.at(60s))) << "one handover per episode";
  // Fresh data ends the episode; the next one is handed over again.
  f.w.driver_line(f.at(61s), DriverLine::DataOk);
  f.w.driver_line(f.at(62s), DriverLine::DataStale);
  EXPECT_TRUE(f.w.hand_over_due(f.at(72s)));
}

TEST(DriverWatch, AReconnectedDriverStartsAFreshEpisode) {
  Fixture f;
  f.w.connected(f.at(0s));
  f.w.driver_line(f.at(0s), DriverLine::DataStale);
  ASSERT_TRUE(f.w.hand_over_due(f.at(10s)));
  f.w.handed_over();
  f.w.disconnected(f.at(11s));  // the restart
  EXPECT_EQ(f.w.state(f.at(11s)), State::Unknown);
  EXPECT_FALSE(f.w.reconnect_due(f.at(15s)));
  EXPECT_TRUE(f.w.reconnect_due(f.at(16s)));
  EXPECT_EQ(f.w.next_wakeup(), f.at(16s));
  f.w.connected(f.at(16s));
  f.w.driver_line(f.at(16s), DriverLine::DataStale);
  EXPECT_TRUE(f.w.hand_over_due(f.at(26s))) << "still wedged after the restart: a new episode";
}

TEST(DriverWatch, APingWithoutPongIsAHungDriver) {
  Fixture f;
  f.w.connected(f.at(0s));
  f.w.driver_line(f.at(0s), DriverLine::Pong);
  f.w.driver_line(f.at(0s), DriverLine::DataOk);
  EXPECT_FALSE(f.w.ping_due(f.at(29s)));
  EXPECT_EQ(f.w.next_wakeup(), f.at(30s));
  ASSERT_TRUE(f.w.ping_due(f.at(30s)));
  f.w.pinged(f.at(30s));
  EXPECT_FALSE(f.w.ping_due(f.at(35s))) << "one PING outstanding at a time";
  EXPECT_EQ(f.w.next_wakeup(), f.at(40s));
  EXPECT_EQ(f.w.state(f.at(39s)), State::Healthy);
  EXPECT_EQ(f.w.state(f.at(40s)), State::Hung);
  EXPECT_TRUE(f.w.hand_over_due(f.at(40s)));
  EXPECT_EQ(f.w.reason(f.at(40500ms)), "no answer to PING for 10s");
  // The PONG it owed ends it.
  f.w.driver_line(f.at(41s), DriverLine::Pong);
  EXPECT_EQ(f.w.state(f.at(41s)), State::Healthy);
}

TEST(DriverWatch, AHeldHandoverWaitsForTheBudget) {
  Fixture f;
  f.w.connected(f.at(0s));
  f.w.driver_line(f.at(0s), DriverLine::DataStale);
  ASSERT_TRUE(f.w.hand_over_due(f.at(10s)));
  f.w.hold_until(f.at(600s));
  EXPECT_FALSE(f.w.hand_over_due(f.at(599s)));
  EXPECT_TRUE(f.w.hand_over_due(f.at(600s)));
}

TEST(DriverWatch, UpsdAnswersCountLikeTheSocket) {
  Fixture f;
  f.w.connected(f.at(0s));
  f.w.upsd_answer(f.at(0s), {UpsdStatus::Kind::Fresh, "OL"});
  EXPECT_EQ(f.w.state(f.at(1s)), State::Healthy);
  f.w.pinged(f.at(30s));
  f.w.upsd_answer(f.at(30s), {UpsdStatus::Kind::Stale, ""});
  EXPECT_EQ(f.w.state(f.at(31s)), State::Stale);
  EXPECT_TRUE(f.w.hand_over_due(f.at(40s)));
  f.w.upsd_answer(f.at(41s), {UpsdStatus::Kind::DriverDown, ""});
  EXPECT_EQ(f.w.state(f.at(41s)), State::Unknown) << "no driver to judge: systemd's business";
  EXPECT_FALSE(f.w.hand_over_due(f.at(100s)));
}

}  // namespace
}  // namespace usbrecover
