// SPDX-License-Identifier: MIT
// The journal's native protocol, written by the helper itself (no libsystemd): fields, a value
// with a line break, and a line sent to a journal socket and received whole.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sstream>
#include <string>

#include "temp_dir.hpp"
#include "util/log.hpp"

namespace usbrecover {
namespace {

TEST(Journal, FieldsAreKeyEqualsValueLinesAndBinaryWithALineBreak) {
  std::string out;
  append_journal_field(out, "A", "one");
  append_journal_field(out, "B", "two\nlines");
  const std::string size_le64("\x09\0\0\0\0\0\0\0", 8);
  EXPECT_EQ(out, "A=one\nB\n" + size_le64 + "two\nlines\n");
}

TEST(Journal, AnEntryCarriesMessagePriorityIdentifierIdAndFields) {
  LogLine line{Priority::Notice,
               message_id::kRecovered,
               "'1-1.2' (0665:5161): recovered",
               {{"USBRECOVER_DEVICE", "1-1.2"}}};
  EXPECT_EQ(journal_entry(line),
            "MESSAGE=usbrecover: '1-1.2' (0665:5161): recovered\nPRIORITY=5\nSYSLOG_IDENTIFIER=usbrecover\n"
            "MESSAGE_ID=8c2d6e0f4a1b4c3d9e7f5a2b6c8d0e1f\nUSBRECOVER_DEVICE=1-1.2\n");
}

TEST(Journal, ALineReachesTheJournalSocketOrElseStderr) {
  test::TempDir dir("/tmp");
  const std::string path = dir.path() + "/journal.socket";
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  std::ostringstream err;
  Logger log(err, true, path);
  log.log(LogLine{Priority::Info, nullptr, "hello", {}});
  char buf[512];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  ::close(fd);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n)),
            "MESSAGE=usbrecover: hello\nPRIORITY=6\nSYSLOG_IDENTIFIER=usbrecover\n");
  EXPECT_EQ(err.str(), "");
  // No journal there: the line goes to stderr instead of being lost.
  Logger none(err, true, dir.path() + "/nothing-here");
  none.log(LogLine{Priority::Info, nullptr, "hello", {}});
  EXPECT_EQ(err.str(), "usbrecover: hello\n");
}

}  // namespace
}  // namespace usbrecover
