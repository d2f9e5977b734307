// SPDX-License-Identifier: MIT
#include "util/metrics.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/log.hpp"

namespace usbrecover {
namespace {

TEST(Metrics, CountersRoundTripAndRejectForeignFiles) {
  DeviceCounters c{"1-1.2", "0665:5161", {{"device", {2, 1}}, {"port-power", {1, 0}}}};
  auto back = parse_counters(format_counters(c));
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*back, c);
  EXPECT_FALSE(parse_counters("").ok());
  EXPECT_FALSE(parse_counters("usbrecover-counters 1\ndevice 1-1 0665:5161\nreboot 1 2\n").ok());
  EXPECT_FALSE(parse_counters("usbrecover-counters 1\ndevice 1-1 0665:5161\ndevice x 2\n").ok());
}

TEST(Metrics, PrometheusTextIsSortedAndLabelled) {
  std::string text = format_prometheus(
      {{"1-2", "06da:0003", {{"hub", {0, 1}}}}, {"1-1.2", "0665:5161", {{"device", {2, 1}}}}});
  EXPECT_EQ(
      text,
      "# HELP usbrecover_recoveries_total Recovery attempts by usbrecover, by device, method and outcome.\n"
      "# TYPE usbrecover_recoveries_total counter\n"
      "usbrecover_recoveries_total{device=\"1-1.2\",id=\"0665:5161\",method=\"device\",outcome=\"recovered\"}"
      " 2\n"
      "usbrecover_recoveries_total{device=\"1-1.2\",id=\"0665:5161\",method=\"device\",outcome=\"failed\"} "
      "1\n"
      "usbrecover_recoveries_total{device=\"1-2\",id=\"06da:0003\",method=\"hub\",outcome=\"recovered\"} 0\n"
      "usbrecover_recoveries_total{device=\"1-2\",id=\"06da:0003\",method=\"hub\",outcome=\"failed\"} 1\n");
}

TEST(Metrics, RecordedAttemptsReachTheTextfile) {
  char tmpl[] = "/tmp/usbrecover-metrics.XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  record_metric(dir, "k", "1-1.2", "0665:5161", Method::Device, false);
  record_metric(dir, "k", "1-1.2", "0665:5161", Method::Device, true);
  record_metric(dir, "k", "1-1.2", "0665:5161", Method::PortPower, true);
  // usbrecover@.service runs with UMask=0077; node_exporter, not root, must still read the file.
  mode_t old_umask = ::umask(077);
  ASSERT_TRUE(write_metrics_textfile(dir, dir + "/usbrecover.prom").ok());
  ::umask(old_umask);
  struct stat st {};
  ASSERT_EQ(::stat((dir + "/usbrecover.prom").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  std::ifstream in(dir + "/usbrecover.prom");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("method=\"device\",outcome=\"recovered\"} 1\n"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("method=\"device\",outcome=\"failed\"} 1\n"), std::string::npos);
  EXPECT_NE(text.str().find("method=\"port-power\",outcome=\"recovered\"} 1\n"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(Log, RepeatedFailuresAreThinnedLikeNutsSerCommFail) {
  std::vector<unsigned> logged;
  for (unsigned n = 1; n <= 350; ++n)
    if (log_repeat(n)) logged.push_back(n);
  EXPECT_EQ(logged, (std::vector<unsigned>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100, 200, 300}));
}

}  // namespace
}  // namespace usbrecover
