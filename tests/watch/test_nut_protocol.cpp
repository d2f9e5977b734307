// SPDX-License-Identifier: MIT
// NUT's driver socket lines and upsd's answers, as the watcher reads them.
#include <gtest/gtest.h>

#include "watch/nut_protocol.hpp"

namespace usbrecover {
namespace {

TEST(NutProtocol, DriverLines) {
  EXPECT_EQ(classify_driver_line("PONG"), DriverLine::Pong);
  EXPECT_EQ(classify_driver_line("DATASTALE"), DriverLine::DataStale);
  EXPECT_EQ(classify_driver_line("DATAOK"), DriverLine::DataOk);
  EXPECT_EQ(classify_driver_line("DUMPDONE"), DriverLine::DumpDone);
  EXPECT_EQ(classify_driver_line("SETINFO ups.status \"OL\""), DriverLine::Other);
  EXPECT_EQ(classify_driver_line("PONG extra"), DriverLine::Other);
  EXPECT_EQ(classify_driver_line(""), DriverLine::Other);
}

TEST(NutProtocol, UpsdAnswers) {
  auto s = parse_upsd_status("VAR myups ups.status \"OL CHRG\"", "myups");
  EXPECT_EQ(s.kind, UpsdStatus::Kind::Fresh);
  EXPECT_EQ(s.value, "OL CHRG");
  EXPECT_EQ(parse_upsd_status("VAR myups ups.status \"a\\\"b\"", "myups").value, "a\"b");
  EXPECT_EQ(parse_upsd_status("ERR DATA-STALE", "myups").kind, UpsdStatus::Kind::Stale);
  EXPECT_EQ(parse_upsd_status("ERR DRIVER-NOT-CONNECTED", "myups").kind, UpsdStatus::Kind::DriverDown);
  EXPECT_EQ(parse_upsd_status("ERR UNKNOWN-UPS", "myups").kind, UpsdStatus::Kind::UnknownUps);
  auto other = parse_upsd_status("ERR ACCESS-DENIED please log in", "myups");
  EXPECT_EQ(other.kind, UpsdStatus::Kind::OtherError);
  EXPECT_EQ(other.value, "ACCESS-DENIED");
  for (const char* bad :
       {"VAR other ups.status \"OL\"", "VAR myups ups.status OL", "VAR myups ups.status \"a\"b\"",
        "BEGIN LIST VAR myups", "", "VAR myups ups.status \""}) {
    EXPECT_EQ(parse_upsd_status(bad, "myups").kind, UpsdStatus::Kind::NotAnAnswer) << bad;
  }
}

TEST(NutProtocol, UpsdRequestsSendOnlyPlainNames) {
  EXPECT_EQ(upsd_status_request("myups"), "GET VAR myups ups.status\n");
  for (const char* bad : {"", "my ups", "a\"b", "a\nLOGOUT", "a\\b"})
    EXPECT_EQ(upsd_status_request(bad), std::nullopt) << bad;
}

TEST(NutProtocol, LineBufferJoinsChunksAndRefusesOverlongLines) {
  LineBuffer b(8);
  EXPECT_TRUE(b.add("PO").empty());
  auto lines = b.add("NG\r\nDATA");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "PONG");
  lines = b.add("OK\n\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "DATAOK");
  EXPECT_EQ(lines[1], "");
  EXPECT_TRUE(b.add("123456789\n").empty());
  EXPECT_TRUE(b.overflowed());
  EXPECT_TRUE(b.add("PONG\n").empty());
  b.clear();
  EXPECT_EQ(b.add("PONG\n").size(), 1u);
}

}  // namespace
}  // namespace usbrecover
