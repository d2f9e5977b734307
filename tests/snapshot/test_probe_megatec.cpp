// SPDX-License-Identifier: MIT
// The pure half of the megatec-q1 probe: transfer shapes per id, chunking, reply judging.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "snapshot/probe_megatec.hpp"

namespace usbrecover {
namespace {

using State = ProbeResult::State;
using Chunk = std::array<std::uint8_t, 8>;

std::vector<std::uint8_t> bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

ProbeResult judge(std::string_view s) {
  return judge_megatec_reply(bytes(s));
}

TEST(MegatecShape, CypressForTheInnoTechBridge) {
  const MegatecShape s = megatec_shape(0x0665, 0x5161);
  EXPECT_EQ(s.style, MegatecStyle::Cypress);
  EXPECT_EQ(s.report_value, 0x200);
  EXPECT_EQ(s.read_size, 8u);
  EXPECT_EQ(s.max_reply, 64u);
  EXPECT_FALSE(s.single_read);
}

TEST(MegatecShape, IpponForPhoenixtec0003Only) {
  const MegatecShape s = megatec_shape(0x06da, 0x0003);
  EXPECT_EQ(s.style, MegatecStyle::Ippon);
  EXPECT_EQ(s.report_value, 0x2);
  EXPECT_EQ(s.read_size, 64u);  // seed 004: one read, never more than 64 bytes
  EXPECT_EQ(s.max_reply, 64u);
  EXPECT_TRUE(s.single_read);
  // Its siblings from the same vendor speak the Cypress way in nutdrv_qx.
  EXPECT_EQ(megatec_shape(0x06da, 0x0004).style, MegatecStyle::Cypress);
  EXPECT_EQ(megatec_shape(0x06da, 0x0201).style, MegatecStyle::Cypress);
  EXPECT_EQ(megatec_shape(0x0003, 0x06da).style, MegatecStyle::Cypress);
}

TEST(MegatecChunks, Q1FitsOneZeroPaddedChunk) {
  const auto chunks = megatec_chunks(kMegatecStatusQuery);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0], (Chunk{'Q', '1', '\r', 0, 0, 0, 0, 0}));
}

TEST(MegatecChunks, LongCommandsSplitEveryEightBytes) {
  const auto chunks = megatec_chunks("T01\rS.5R0010\r");  // 13 bytes
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0], (Chunk{'T', '0', '1', '\r', 'S', '.', '5', 'R'}));
  EXPECT_EQ(chunks[1], (Chunk{'0', '0', '1', '0', '\r', 0, 0, 0}));
  EXPECT_EQ(megatec_chunks("12345678").size(), 1u);
  EXPECT_EQ(megatec_chunks("123456789").size(), 2u);
  EXPECT_TRUE(megatec_chunks("").empty());
}

TEST(MegatecReply, CompleteOnceACarriageReturnArrives) {
  EXPECT_FALSE(megatec_reply_complete(bytes("")));
  EXPECT_FALSE(megatec_reply_complete(bytes("(230.0 2")));
  EXPECT_TRUE(megatec_reply_complete(bytes("0001001\r")));
  EXPECT_TRUE(megatec_reply_complete(bytes(std::string("01\r\0\0\0\0\0", 8))));
}

TEST(MegatecReply, FullStatusLineIsHealthy) {
  const ProbeResult r = judge("(230.0 230.0 230.0 021 50.0 13.5 25.0 00001001\r");
  EXPECT_EQ(r.state, State::Healthy);
  EXPECT_EQ(r.detail, "Q1 answered 47 bytes: '(230.0 230.0 230...'");
}

TEST(MegatecReply, CypressPaddingAfterTheCarriageReturnIsIgnored) {
  // The last 8-byte interrupt read carries the end of the line and zeros.
  const std::string line = "(230.0 230.0 230.0 021 50.0 13.5 25.0 00001001\r";
  std::string padded = line + std::string(64 - line.size(), '\0');
  const ProbeResult r = judge(padded);
  EXPECT_EQ(r.state, State::Healthy);
  EXPECT_EQ(r.detail, "Q1 answered 47 bytes: '(230.0 230.0 230...'");
}

TEST(MegatecReply, IpponFixedReportWithJunkAfterTheLineIsHealthy) {
  std::string report = "(215.0 215.0 220.0 010 49.9 27.4 30.0 00001000\r";
  report += std::string("\xff\x01junkjunk", 10);
  report.resize(64, 'x');
  const ProbeResult r = judge(report);
  EXPECT_EQ(r.state, State::Healthy);
  EXPECT_EQ(r.detail, "Q1 answered 47 bytes: '(215.0 215.0 220...'");
}

TEST(MegatecReply, ShortButWellFormedLinesCount) {
  EXPECT_EQ(judge("(\r").state, State::Healthy);
  EXPECT_EQ(judge("(\r").detail, "Q1 answered 2 bytes: '(\\r'");
  EXPECT_EQ(judge("(NAK\r").state, State::Healthy);
}

TEST(MegatecReply, EmptyIsFailed) {
  const ProbeResult r = judge("");
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, "Q1 got an empty reply");
}

TEST(MegatecReply, TruncatedLineIsFailed) {
  const ProbeResult r = judge("(230.0 230.0 230.0 021");
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, "Q1 reply '(230.0 230.0 230...' does not end with \\r");
}

TEST(MegatecReply, IpponEmptyAnswerIsFailed) {
  // What the Phoenixtec bridge returns when the UPS behind it said nothing: 0x00 0x0d.
  std::string report("\0\r", 2);
  report.resize(64, '\0');
  const ProbeResult r = judge(report);
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, "Q1 reply '\\x00\\r' does not start with '('");
}

TEST(MegatecReply, EchoedCommandIsFailed) {
  // Megatec UPSes echo commands they do not know; a bridge talking to the wrong protocol too.
  const ProbeResult r = judge("Q1\r");
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, "Q1 reply 'Q1\\r' does not start with '('");
}

TEST(MegatecReply, HostileBytesAreEscapedInTheDetail) {
  const ProbeResult r = judge(std::string("\x1b]0;pwned\x07'\\\n\r", 14));
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, "Q1 reply '\\x1b]0;pwned\\x07\\'\\\\\\n\\r' does not start with '('");
  for (char c : r.detail) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20);
    EXPECT_LE(static_cast<unsigned char>(c), 0x7e);
  }
}

TEST(MegatecReply, NoCarriageReturnInSixtyFourBytesIsFailed) {
  const ProbeResult r = judge(std::string(64, '('));
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, "Q1 reply '((((((((((((((((...' does not end with \\r");
}

TEST(PrintableBytes, CutsAndEscapes) {
  EXPECT_EQ(printable_bytes(bytes("abc"), 16), "abc");
  EXPECT_EQ(printable_bytes(bytes("abcdef"), 3), "abc...");
  EXPECT_EQ(printable_bytes(bytes("a\tb"), 16), "a\\tb");
  EXPECT_EQ(printable_bytes(bytes("\x7f\x80"), 16), "\\x7f\\x80");
  EXPECT_EQ(printable_bytes(bytes(""), 16), "");
}

}  // namespace
}  // namespace usbrecover
