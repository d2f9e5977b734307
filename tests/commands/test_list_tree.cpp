// SPDX-License-Identifier: MIT
// `usbrecover list` and `usbrecover tree` against the standard umockdev bed.
#include <gtest/gtest.h>

#include <linux/usbdevice_fs.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <sstream>

#include "commands/commands.hpp"
#include "testbed.hpp"

namespace usbrecover::testing {
namespace {

// A strict JSON syntax check (RFC 8259), enough to prove the output parses.
class JsonChecker {
 public:
  explicit JsonChecker(std::string_view s) : s_(s) {}
  bool valid() {
    ws();
    if (!value()) return false;
    ws();
    return i_ == s_.size();
  }

 private:
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  bool lit(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  bool string() {
    if (!lit("\"")) return false;
    while (i_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c == '\\') {
        if (i_ >= s_.size()) return false;
        const char e = s_[i_++];
        if (e == 'u') {
          for (int k = 0; k < 4; ++k) {
            if (i_ >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[i_++]))) return false;
          }
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return false;
        }
      }
    }
    return false;
  }
  bool number() {
    const std::size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
    return i_ > start;
  }
  bool value() {
    ws();
    if (i_ >= s_.size()) return false;
    switch (s_[i_]) {
      case '{': {
        ++i_;
        ws();
        if (lit("}")) return true;
        do {
          ws();
          if (!string()) return false;
          ws();
          if (!lit(":") || !value()) return false;
          ws();
        } while (lit(","));
        return lit("}");
      }
      case '[': {
        ++i_;
        ws();
        if (lit("]")) return true;
        do {
          if (!value()) return false;
          ws();
        } while (lit(","));
        return lit("]");
      }
      case '"':
        return string();
      case 't':
        return lit("true");
      case 'f':
        return lit("false");
      case 'n':
        return lit("null");
      default:
        return number();
    }
  }
  std::string_view s_;
  std::size_t i_ = 0;
};

class CommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Testbed::available()) GTEST_SKIP() << "not running under umockdev-wrapper";
    s_ = build_standard_bed();
  }

  int run(int (*cmd)(const Args&, Context&), const Args& args) {
    out_.str("");
    err_.str("");
    Context ctx{out_, err_, "/sys", "/dev", "", s_.mountinfo, "/run/udev/control", "/dev/null", "/proc", ""};
    return cmd(args, ctx);
  }

  // The output line that contains `needle`, or "".
  std::string line_with(const std::string& needle) const {
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) {
      if (line.find(needle) != std::string::npos) return line;
    }
    return "";
  }

  StandardBed s_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(CommandTest, ListShowsEveryDeviceWithItsTableEntry) {
  ASSERT_EQ(run(cmd_list, {}), kExitOk) << err_.str();
  EXPECT_EQ(err_.str(), "");
  const std::string ups = line_with("0665:5161");
  EXPECT_NE(ups.find("1-1.1"), std::string::npos) << ups;
  EXPECT_NE(ups.find("001/003"), std::string::npos) << ups;
  EXPECT_NE(ups.find("1.5M"), std::string::npos) << ups;
  EXPECT_NE(ups.find("usbhid"), std::string::npos) << ups;
  EXPECT_NE(ups.find("megatec-ups (devices.toml:12)"), std::string::npos) << ups;
  EXPECT_NE(ups.find("INNO TECH USB to Serial"), std::string::npos) << ups;
  EXPECT_NE(line_with("1-2.3").find("serial 'B20K2ABC'"), std::string::npos);
  EXPECT_NE(line_with("2-1.4").find("[mounted on /media/user/USB STICK]"), std::string::npos);
  // A header and one line per device.
  const std::string out = out_.str();
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 13) << out;
  EXPECT_EQ(out_.str().rfind("PORT", 0), 0u);
}

TEST_F(CommandTest, ListNeverPrintsRawControlCharacters) {
  ASSERT_EQ(run(cmd_list, {}), kExitOk);
  const std::string out = out_.str();
  for (char c : out) {
    EXPECT_TRUE(c == '\n' || static_cast<unsigned char>(c) >= 0x20) << "raw control byte " << int(c);
    EXPECT_NE(static_cast<unsigned char>(c), 0x7f);
  }
  const std::string hostile = line_with("1234:abcd");
  EXPECT_NE(hostile.find("Evil\\x1b]0;pwned\\x07 Corp Pro\\x1b[2J\"duct\\\\ \\xff\\xfe"), std::string::npos)
      << hostile;
  EXPECT_NE(hostile.find("serial 'SER\\x7fIAL'"), std::string::npos) << hostile;
}

TEST_F(CommandTest, ListJsonIsValidAndEscaped) {
  ASSERT_EQ(run(cmd_list, {"--json"}), kExitOk) << err_.str();
  const std::string out = out_.str();
  EXPECT_TRUE(JsonChecker(out).valid()) << out;
  EXPECT_EQ(out.rfind("{\n  \"devices\": [", 0), 0u);
  EXPECT_NE(out.find("\"vendor\": \"0665\""), std::string::npos);
  EXPECT_NE(out.find("\"name\": \"megatec-ups\""), std::string::npos);
  EXPECT_NE(out.find("\"source\": \"devices.toml:12\""), std::string::npos);
  EXPECT_NE(out.find("\"mounts\": [\n        \"/media/user/USB STICK\"\n      ]"), std::string::npos);
  EXPECT_NE(out.find("\"product_name\": \"Pro\\u001b[2J\\\"duct\\\\ \\ufffd\\ufffd\""), std::string::npos);
  EXPECT_NE(out.find("\"serial\": \"SER\\u007fIAL\""), std::string::npos);
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
}

TEST_F(CommandTest, TreeShowsPowerSwitchingAndPortStatus) {
  ASSERT_EQ(run(cmd_tree, {}), kExitOk) << err_.str();
  const std::string out = out_.str();
  EXPECT_EQ(
      out.rfind("/: Bus 001 [0000:00:14.0 xhci_hcd] 1-0 1d6b:0002 480M hub, 4 ports, power per-port", 0), 0u)
      << out;
  EXPECT_NE(out.find("    |__ Port 1: [peer usb2-port1] 1-1 05e3:0610 480M hub, 4 ports, power per-port "
                     "\"GenesysLogic USB2.1 Hub\"\n"),
            std::string::npos)
      << out;
  EXPECT_NE(
      out.find("        |__ Port 1: [peer 2-1-port1] 1-1.1 0665:5161 1.5M usbhid \"INNO TECH USB to Serial\" "
               "entry megatec-ups\n"),
      std::string::npos)
      << out;
  EXPECT_NE(out.find("|__ Port 2: [peer usb2-port2] 1-2 1a40:0101 480M hub, 4 ports, power ganged"),
            std::string::npos);
  EXPECT_NE(out.find("        |__ Port 2: empty\n"), std::string::npos);
  EXPECT_NE(out.find("    |__ Port 3: empty, disabled, peer usb2-port3\n"), std::string::npos);
  EXPECT_NE(out.find("    |__ Port 4: empty, hardwired, peer usb2-port4\n"), std::string::npos);
  EXPECT_NE(out.find("/: Bus 003 [0000:00:1d.0 ehci-pci] 3-0"), std::string::npos);
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
}

TEST_F(CommandTest, TreeShowsWhyPowerSwitchingIsUnknown) {
  s_.bed->usbfs().fail(s_.bed->devnode(s_.ganged_hub), USBDEVFS_CONTROL, EACCES);
  ASSERT_EQ(run(cmd_tree, {}), kExitOk);
  EXPECT_NE(out_.str().find("1-2 1a40:0101 480M hub, power unknown (hub descriptor request on '" +
                            s_.bed->devnode(s_.ganged_hub) + "' failed: Permission denied)"),
            std::string::npos)
      << out_.str();
}

TEST_F(CommandTest, TreeJsonIsValid) {
  ASSERT_EQ(run(cmd_tree, {"--json"}), kExitOk) << err_.str();
  const std::string out = out_.str();
  EXPECT_TRUE(JsonChecker(out).valid()) << out;
  EXPECT_NE(out.find("\"power_switching\": \"ganged\""), std::string::npos);
  EXPECT_NE(out.find("\"power_switching\": \"per-port\""), std::string::npos);
  EXPECT_NE(out.find("\"disabled\": true"), std::string::npos);
  EXPECT_NE(out.find("\"disabled\": null"), std::string::npos);
  EXPECT_NE(out.find("\"driver\": \"xhci_hcd\""), std::string::npos);
}

TEST_F(CommandTest, UsageErrorsNameTheArgument) {
  EXPECT_EQ(run(cmd_list, {"--jsn"}), kExitUsage);
  EXPECT_EQ(err_.str(), "usbrecover: list: unknown option '--jsn' (see usbrecover list --help)\n");
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(run(cmd_tree, {"extra"}), kExitUsage);
  EXPECT_EQ(err_.str(), "usbrecover: tree: unexpected argument 'extra' (see usbrecover tree --help)\n");
  EXPECT_EQ(run(cmd_tree, {"-\x1b"}), kExitUsage);
  EXPECT_EQ(err_.str(), "usbrecover: tree: unknown option '-\\x1b' (see usbrecover tree --help)\n");
}

TEST_F(CommandTest, HelpGoesToStdout) {
  EXPECT_EQ(run(cmd_list, {"--help"}), kExitOk);
  EXPECT_EQ(out_.str().rfind("usage: usbrecover list [--json]\n", 0), 0u);
  EXPECT_EQ(run(cmd_tree, {"-h"}), kExitOk);
  EXPECT_EQ(out_.str().rfind("usage: usbrecover tree [--json]\n", 0), 0u);
  EXPECT_EQ(err_.str(), "");
}

}  // namespace
}  // namespace usbrecover::testing
