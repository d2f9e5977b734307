// SPDX-License-Identifier: MIT
// `usbrecover reset` end to end on a umockdev testbed: dry run, a real run through the ioctl
// handler with verification, refusals and exit codes; and the Verifier on udev events.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/usbdevice_fs.h>
#include <sys/ioctl.h>
#include <umockdev.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "act/verify.hpp"
#include "commands/commands.hpp"
#include "fake_udevd.hpp"
#include "snapshot/snapshot_reader.hpp"
#include "temp_dir.hpp"
#include "usbfs_fake.hpp"

namespace usbrecover {
namespace {

using test::TempDir;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::UsbfsFake;

const std::string kPci = "/devices/pci0000:00/0000:00:14.0";
const std::string kDevPath = "/sys" + kPci + "/usb1/1-1/1-1.2";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The ioctls that change something: resets and host-to-device control requests. The snapshot
// reader's GET_DESCRIPTOR (device-to-host) only reads.
std::vector<testing::UsbfsCall> changes(const std::vector<testing::UsbfsCall>& calls) {
  std::vector<testing::UsbfsCall> out;
  for (const auto& c : calls) {
    if (c.request == USBDEVFS_RESET || (c.request == USBDEVFS_CONTROL && (c.request_type & 0x80) == 0)) {
      out.push_back(c);
    }
  }
  return out;
}

class ResetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* p = std::getenv("LD_PRELOAD");
    if (p == nullptr || std::strstr(p, "libumockdev-preload") == nullptr)
      GTEST_SKIP() << "needs umockdev-wrapper";
    tb_ = umockdev_testbed_new();
    add("P: " + kPci + "\nE: SUBSYSTEM=pci\nE: DRIVER=xhci_hcd\nA: vendor=0x8086\nA: device=0xa36d\n");
    add(usb(kPci + "/usb1", 1, 1, "1d6b", "0002", "09") + "A: maxchild=4\n");
    add(usb(kPci + "/usb1/1-1", 1, 2, "05e3", "0610", "09") + "A: maxchild=4\n");
    umockdev_testbed_set_attribute(tb_, ("/sys" + kPci + "/usb1/1-1").c_str(), "1-1:1.0/1-1-port2/disable",
                                   "0");
    add(usb(kPci + "/usb1/1-1/1-1.2", 1, 4, "0665", "5161", "00") + "A: product=USB to Serial\n");
    add(usb(kPci + "/usb1/1-1/1-1.3", 1, 5, "046d", "c52b", "00"));
    ASSERT_TRUE(usbfs_.attach(tb_, "/dev/bus/usb/001/004").ok());
    ASSERT_TRUE(usbfs_.attach(tb_, "/dev/bus/usb/001/002").ok());
    ASSERT_TRUE(usbfs_.attach(tb_, "/dev/bus/usb/001/001").ok());
  }
  void TearDown() override {
    if (tb_ != nullptr) g_object_unref(tb_);
  }

  static std::string usb(const std::string& devpath, unsigned bus, unsigned dev, const char* vid,
                         const char* pid, const char* cls) {
    char node[32];
    std::snprintf(node, sizeof node, "bus/usb/%03u/%03u", bus, dev);
    return "P: " + devpath + "\nN: " + node + "\nE: SUBSYSTEM=usb\nE: DEVTYPE=usb_device\nE: DEVNAME=/dev/" +
           node + "\nE: DRIVER=usb\nA: busnum=" + std::to_string(bus) + "\nA: devnum=" + std::to_string(dev) +
           "\nA: dev=189:" + std::to_string((bus - 1) * 128 + dev - 1) + "\nA: idVendor=" + vid +
           "\nA: idProduct=" + pid + "\nA: bDeviceClass=" + cls + "\nA: authorized=1\nA: speed=480\n";
  }
  void add(const std::string& record) {
    GError* error = nullptr;
    if (!umockdev_testbed_add_from_string(tb_, record.c_str(), &error)) {
      ADD_FAILURE() << record << ": " << (error ? error->message : "?");
      g_clear_error(&error);
    }
  }
  int run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    Context ctx{out_,        err_,          "/sys",      "/dev",  state_.path(),
                "/dev/null", udevd_.path(), "/dev/null", "/proc", ""};
    return cmd_reset(args, ctx);
  }

  UMockdevTestbed* tb_ = nullptr;
  UsbfsFake usbfs_;
  TempDir state_;
  testing::FakeUdevd udevd_{state_.path() + "/udev-control"};
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(ResetTest, DryRunPrintsTheStepsAndTouchesNothing) {
  EXPECT_EQ(run({"1-1.2", "--method", "device", "--dry-run"}), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(),
            "reset '1-1.2' (0665:5161) with device would do:\n  reset /dev/bus/usb/001/004\n"
            "disturbs no other device\n");
  EXPECT_EQ(run({"1-1.2", "--method=authorize", "--dry-run"}), kExitOk) << err_.str();
  EXPECT_EQ(slurp(kDevPath + "/authorized"), "1");
  EXPECT_THAT(changes(usbfs_.calls()), IsEmpty());
}

TEST_F(ResetTest, DryRunNamesTheCollateralAndIsRefusedWithoutPermission) {
  EXPECT_EQ(run({"0665:5161", "--method", "hub", "--dry-run"}), kExitRefused);
  EXPECT_THAT(out_.str(), HasSubstr("would also disturb:\n  1-1.3 (046d:c52b)\n"));
  EXPECT_THAT(err_.str(),
              HasSubstr("usbrecover: reset '1-1.2' (0665:5161): method hub would also disturb 1-1.3"));
  EXPECT_EQ(run({"0665:5161", "--method", "hub", "--dry-run", "--allow-collateral"}), kExitOk) << err_.str();
  EXPECT_EQ(run({"0665:5161", "--method", "hub"}), kExitRefused);
  EXPECT_THAT(changes(usbfs_.calls()), IsEmpty());
}

TEST_F(ResetTest, DeviceResetRunsTheIoctlAndVerifies) {
  EXPECT_EQ(run({"1-1.2", "--method", "device", "--json"}), kExitOk) << err_.str();
  auto calls = changes(usbfs_.calls());
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls.back().devnode, "/dev/bus/usb/001/004");
  EXPECT_EQ(calls.back().request, static_cast<unsigned long>(USBDEVFS_RESET));
  EXPECT_THAT(out_.str(), HasSubstr("\"verified\": true"));
  EXPECT_THAT(out_.str(), HasSubstr("\"ok\": true"));
  EXPECT_THAT(out_.str(), HasSubstr("\"method\": \"device\""));
  EXPECT_THAT(out_.str(), HasSubstr("\"port_path\": \"1-1.2\""));
}

TEST_F(ResetTest, TimingsNameEveryPhaseOfARun) {
  EXPECT_EQ(run({"1-1.2", "--method", "authorize", "--timings"}), kExitOk) << err_.str();
  const std::string e = err_.str();
  // Each phase once, in the order the run went through them; the pause is authorize's own.
  std::size_t at = e.find("timings:\n");
  ASSERT_NE(at, std::string::npos) << e;
  for (const char* phase : {"  start-up ", "  repair-first ", "  selector ", "  snapshot ", "  lock ",
                            "  verification ", "  intents ", "  kernel ", "  other ", "  total "}) {
    const auto next = e.find(phase, at);
    EXPECT_NE(next, std::string::npos) << phase << " missing or out of order in:\n" << e;
    if (next != std::string::npos) at = next;
  }
  EXPECT_THAT(out_.str(), HasSubstr("recovered with authorize in "));
}

TEST_F(ResetTest, AuthorizeWritesBothValuesAndLeavesNoIntent) {
  EXPECT_EQ(run({"1-1.2", "--method", "authorize"}), kExitOk) << err_.str();
  EXPECT_EQ(slurp(kDevPath + "/authorized"), "1");
  EXPECT_THAT(out_.str(), HasSubstr("reset '1-1.2' (0665:5161): recovered with authorize in "));
  EXPECT_THAT(state_.files("intents"), IsEmpty());
}

TEST_F(ResetTest, ExitCodesFollowTheErrors) {
  usbfs_.fail("", UsbfsFake::kAnyRequest, EACCES);
  EXPECT_EQ(run({"1-1.2", "--method", "device"}), kExitNoPerm);
  EXPECT_EQ(err_.str(),
            "usbrecover: reset '1-1.2' (0665:5161): /dev/bus/usb/001/004: USBDEVFS_RESET failed: Permission "
            "denied\n");
  usbfs_.clear_failures();
  usbfs_.fail("", UsbfsFake::kAnyRequest, EPIPE);
  EXPECT_EQ(run({"1-1.2", "--method", "device"}), kExitFailed);
  EXPECT_EQ(run({"9999:9999", "--method", "device"}), kExitNotFound);
  EXPECT_EQ(run({"1-1.2", "--method", "reboot"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("unknown method 'reboot' (expected one of: device, warm-reset, rebind"));
  EXPECT_EQ(run({"1-1.2"}), kExitUsage);
  EXPECT_EQ(run({"1-1.2", "--method", "device", "--timeout", "soon"}), kExitUsage);
  EXPECT_EQ(run({"usb1", "--method", "device"}), kExitRefused);
  EXPECT_THAT(err_.str(), HasSubstr("usb1 is a root hub, which the kernel does not reset"));
}

TEST_F(ResetTest, VerifierWaitsForUdevToAnnounceTheNewDevice) {
  auto reader = SnapshotReader::open();
  ASSERT_TRUE(reader.ok());
  auto before = reader->device(kDevPath);
  ASSERT_TRUE(before.ok()) << before.error().message();
  auto verifier = Verifier::listen();
  ASSERT_TRUE(verifier.ok()) << verifier.error().message();
  auto read = [&](const std::string& p) { return reader->device(p); };

  // Not re-enumerated: the verifier times out and says why.
  auto soon = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  auto stale = verifier->wait(*before, true, soon, read);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().message(), "1-1.2: did not come back in time: 1-1.2 has not been enumerated anew");

  // Re-enumerated under a new number, but udev has not said so: still waiting...
  umockdev_testbed_set_attribute(tb_, kDevPath.c_str(), "devnum", "7");
  std::thread announce([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    umockdev_testbed_set_property(tb_, kDevPath.c_str(), "DEVNUM", "007");
    umockdev_testbed_uevent(tb_, kDevPath.c_str(), "add");
  });
  auto later = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto t0 = std::chrono::steady_clock::now();
  auto back = verifier->wait(*before, true, later, read);
  announce.join();
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->devnum, 7u);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100));  // ...until the event
}

TEST(NotBackYet, SaysWhatIsMissing) {
  UsbDevice before;
  before.sysname = before.port_path = "1-1.2";
  before.vendor = 0x0665;
  before.product = 0x5161;
  before.devnum = 4;
  before.serial = "A1";
  Interface hid;
  hid.sysname = "1-1.2:1.0";
  hid.driver = "usbhid";
  Interface claimed;
  claimed.sysname = "1-1.2:1.1";
  claimed.driver = "usbfs";
  before.interfaces = {hid, claimed};

  UsbDevice now = before;
  EXPECT_EQ(not_back_yet(before, now, false), std::nullopt);
  EXPECT_EQ(not_back_yet(before, now, true), "1-1.2 has not been enumerated anew");
  now.devnum = 9;
  EXPECT_EQ(not_back_yet(before, now, true), std::nullopt);
  now.interfaces[1].driver.clear();  // a program's claim is its own business
  EXPECT_EQ(not_back_yet(before, now, true), std::nullopt);
  now.interfaces[0].driver.clear();
  EXPECT_EQ(not_back_yet(before, now, true), "interface 1-1.2:1.0 has no driver (was usbhid)");
  now.interfaces.clear();
  EXPECT_EQ(not_back_yet(before, now, true), "interface 1-1.2:1.0 is missing");
  now = before;
  now.authorized = false;
  EXPECT_EQ(not_back_yet(before, now, false), "1-1.2 is not authorized");
  now = before;
  now.serial = "B2";
  EXPECT_EQ(not_back_yet(before, now, false), "a device with another serial ('B2') is on 1-1.2");
  now = before;
  now.product = 0x0001;
  EXPECT_EQ(not_back_yet(before, now, false), "a different device (0665:0001) is on 1-1.2");
}

}  // namespace
}  // namespace usbrecover
