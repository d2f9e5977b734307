// SPDX-License-Identifier: MIT
// JSON writing, terminal escaping and mountinfo parsing: the pure helpers the printers use.
#include <gtest/gtest.h>

#include <sstream>

#include "snapshot/mountinfo.hpp"
#include "snapshot/snapshot.hpp"
#include "snapshot/sysfs.hpp"
#include "util/json.hpp"
#include "util/text.hpp"

namespace usbrecover {
namespace {

TEST(JsonQuote, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(json_quote(""), "\"\"");
  EXPECT_EQ(json_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_quote("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(json_quote("\x1b[2J\x07"), "\"\\u001b[2J\\u0007\"");
  EXPECT_EQ(json_quote(std::string("a\0b", 3)), "\"a\\u0000b\"");
  EXPECT_EQ(json_quote("\x7f"), "\"\\u007f\"");
}

TEST(JsonQuote, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(json_quote("Gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x94\x8c"),
            "\"Gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x94\x8c\"");
  EXPECT_EQ(json_quote("\xff\xfe"), "\"\\ufffd\\ufffd\"");
  EXPECT_EQ(json_quote("\xc3"), "\"\\ufffd\"");                        // truncated sequence
  EXPECT_EQ(json_quote("\xc0\xaf"), "\"\\ufffd\\ufffd\"");             // overlong '/'
  EXPECT_EQ(json_quote("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // surrogate
  EXPECT_EQ(json_quote("\xc2\x9b"), "\"\\u009b\"");                    // C1 CSI
  EXPECT_EQ(json_quote("\xe2\x80\xa8"), "\"\\u2028\"");
}

TEST(JsonWriter, NestsWithCommasAndIndentation) {
  std::ostringstream os;
  {
    JsonWriter w(os);
    w.begin_object();
    w.field("name", "x\"y").field("n", 3).field("ok", true);
    w.key("list").begin_array().value(1u).null().begin_object().end_object().end_array();
    w.key("empty").begin_array().end_array();
    w.end_object();
  }
  EXPECT_EQ(os.str(),
            "{\n"
            "  \"name\": \"x\\\"y\",\n"
            "  \"n\": 3,\n"
            "  \"ok\": true,\n"
            "  \"list\": [\n"
            "    1,\n"
            "    null,\n"
            "    {}\n"
            "  ],\n"
            "  \"empty\": []\n"
            "}\n");
}

TEST(TerminalSafe, NeutralisesEscapesAndInvalidBytes) {
  EXPECT_EQ(terminal_safe("INNO TECH"), "INNO TECH");
  EXPECT_EQ(terminal_safe("Pro\x1b[2Jduct"), "Pro\\x1b[2Jduct");
  EXPECT_EQ(terminal_safe("a\\x1b"), "a\\\\x1b");  // a literal backslash cannot fake an escape
  EXPECT_EQ(terminal_safe("\xff"), "\\xff");
  EXPECT_EQ(terminal_safe("\xc2\x9b"
                          "31m"),
            "\\xc2\\x9b31m");
  EXPECT_EQ(terminal_safe("evil\xe2\x80\xae"
                          "txt"),
            "evil\\u{202e}txt");
  EXPECT_EQ(terminal_safe("Gr\xc3\xbc\xc3\x9f"), "Gr\xc3\xbc\xc3\x9f");
  EXPECT_EQ(terminal_safe("line\nbreak\t"), "line\\x0abreak\\x09");
}

TEST(Mountinfo, MapsDeviceNumbersToUnescapedMountPoints) {
  const auto t = parse_mountinfo(
      "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
      "98 22 8:17 / /media/user/USB\\040STICK rw,nosuid shared:50 - vfat /dev/sdb1 rw\n"
      "99 22 8:17 /sub /srv/back\\134slash rw - vfat /dev/sdb1 rw\n"
      "garbage line\n"
      "100 22 x:y / /bad rw - tmpfs tmpfs rw\n"
      "101 22 8:33 / /trailing\\04 rw - vfat /dev/sdc1 rw");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t.at({259, 2}), (std::vector<std::string>{"/"}));
  EXPECT_EQ(t.at({8, 17}), (std::vector<std::string>{"/media/user/USB STICK", "/srv/back\\slash"}));
  EXPECT_EQ(t.at({8, 33}), (std::vector<std::string>{"/trailing\\04"}));
}

TEST(Sysfs, ResolveLinkFoldsDotDot) {
  EXPECT_EQ(sysfs::resolve_link("/sys/devices/p/usb1/1-0:1.0/usb1-port1", "../../../usb2/2-0:1.0/usb2-port1"),
            "/sys/devices/p/usb2/2-0:1.0/usb2-port1");
  EXPECT_EQ(sysfs::resolve_link("/a/b", "/abs/./x"), "/abs/x");
  EXPECT_EQ(sysfs::resolve_link("/a", "../../.."), "/");
  EXPECT_EQ(sysfs::dirname("/a/b/c"), "/a/b");
  EXPECT_EQ(sysfs::basename("/a/b/c"), "c");
}

TEST(Snapshot, PortPathOfRootHub) {
  EXPECT_EQ(port_path_of("usb1"), "1-0");
  EXPECT_EQ(port_path_of("usb12"), "12-0");
  EXPECT_EQ(port_path_of("1-1.2"), "1-1.2");
  EXPECT_EQ(port_path_of("usbx"), "usbx");
  EXPECT_EQ(to_string(PowerSwitching::PerPort), "per-port");
}

}  // namespace
}  // namespace usbrecover
