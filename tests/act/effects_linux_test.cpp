// SPDX-License-Identifier: MIT
// LinuxEffects against a umockdev testbed: sysfs writes land in the testbed's files, usbfs
// ioctls reach a recording handler with the right fields, and the handler's errors come back
// as the right Error. Runs under umockdev-wrapper; skips when not.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/usbdevice_fs.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <umockdev.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "act/effects_linux.hpp"
#include "act/executor.hpp"
#include "act/interrupt.hpp"
#include "act/methods.hpp"
#include "commands/commands.hpp"
#include "temp_dir.hpp"
#include "usbfs_fake.hpp"

namespace usbrecover {
namespace {

using test::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::UsbfsCall;
using testing::UsbfsFake;

const std::string kHubNode = "/dev/bus/usb/001/002";
const std::string kDevNode = "/dev/bus/usb/001/004";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// umockdev_in_mock_environment() asks dladdr() who provides open(), which misses the preload
// on Debian 12's build; the wrapper's LD_PRELOAD is what matters.
bool preloaded() {
  const char* p = std::getenv("LD_PRELOAD");
  return p != nullptr && std::strstr(p, "libumockdev-preload") != nullptr;
}

class LinuxEffectsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!preloaded()) GTEST_SKIP() << "needs umockdev-wrapper";
    tb_ = umockdev_testbed_new();
    // add_from_string, unlike add_device, also creates the device nodes ("N:").
    root_ = add("/devices/usb1", "001/001", "A: authorized=1\n");
    hub_ = add("/devices/usb1/1-1", "001/002", "A: authorized=1\n");
    umockdev_testbed_set_attribute(tb_, hub_.c_str(), "1-1:1.0/1-1-port2/disable", "0");
    dev_ = add("/devices/usb1/1-1/1-1.2", "001/004", "A: authorized=1\n");
    gchar* sys = umockdev_testbed_get_sys_dir(tb_);
    sys_dir_ = sys;
    g_free(sys);
    ASSERT_TRUE(usbfs_.attach(tb_, kHubNode).ok());
    ASSERT_TRUE(usbfs_.attach(tb_, kDevNode).ok());
    // A hub accepts the port requests these tests send.
    usbfs_.on_control(kHubNode, {}, {});
  }
  void TearDown() override {
    if (tb_ != nullptr) g_object_unref(tb_);
  }

  // Adds a USB device with a usbfs node; returns its syspath.
  std::string add(const std::string& devpath, const std::string& busdev, const std::string& extra) {
    unsigned bus = std::stoul(busdev.substr(0, 3));
    unsigned dev = std::stoul(busdev.substr(4));
    std::string record =
        "P: " + devpath + "\nN: bus/usb/" + busdev + "\nE: SUBSYSTEM=usb\nE: DEVNAME=/dev/bus/usb/" + busdev +
        "\nE: DEVTYPE=usb_device\nA: busnum=" + std::to_string(bus) + "\nA: devnum=" + std::to_string(dev) +
        "\nA: dev=189:" + std::to_string((bus - 1) * 128 + dev - 1) + "\n" + extra;
    GError* error = nullptr;
    if (!umockdev_testbed_add_from_string(tb_, record.c_str(), &error)) {
      ADD_FAILURE() << devpath << ": " << (error ? error->message : "?");
      g_clear_error(&error);
    }
    return "/sys" + devpath;
  }

  // A driver directory with bind/unbind files, as sysfs has and umockdev does not make.
  std::string driver_dir(const std::string& bus, const std::string& driver) {
    std::string real = sys_dir_ + "/bus/" + bus + "/drivers/" + driver;
    std::filesystem::create_directories(real);
    std::ofstream(real + "/bind");
    std::ofstream(real + "/unbind");
    return "/sys/bus/" + bus + "/drivers/" + driver;
  }

  UMockdevTestbed* tb_ = nullptr;
  std::string root_;
  std::string hub_;
  std::string dev_;
  std::string sys_dir_;
  UsbfsFake usbfs_;
  LinuxEffects fx_{"/sys", "/dev"};
};

TEST_F(LinuxEffectsTest, SysfsWriteLandsInTheAttribute) {
  std::string attr = dev_ + "/authorized";
  ASSERT_TRUE(fx_.write_sysfs(attr, "0").ok());
  EXPECT_EQ(slurp(attr), "0");
  ASSERT_TRUE(fx_.write_sysfs(attr, "1").ok());
  EXPECT_EQ(slurp(attr), "1");  // truncated, not "10"
  std::string disable = hub_ + "/1-1:1.0/1-1-port2/disable";
  ASSERT_TRUE(fx_.write_sysfs(disable, "1").ok());
  EXPECT_EQ(slurp(disable), "1");
}

TEST_F(LinuxEffectsTest, AMissingAttributeIsAnErrorAndNotCreated) {
  std::string attr = dev_ + "/no_such_attribute";
  auto st = fx_.write_sysfs(attr, "1");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().object, attr);
  EXPECT_EQ(st.error().reason, "write 1 failed");
  EXPECT_EQ(st.error().errnum, ENOENT);
  EXPECT_FALSE(std::filesystem::exists(attr));
}

TEST_F(LinuxEffectsTest, PathsOutsideTheRootsAreRefused) {
  for (const char* p : {"/tmp/authorized", "/sys/../tmp/x", "/sys", "/sys/", "/sysx/a", "sys/a", "/sys//a"}) {
    auto st = fx_.write_sysfs(p, "1");
    ASSERT_FALSE(st.ok()) << p;
    EXPECT_THAT(st.error().reason, HasSubstr("not below '/sys'")) << p;
  }
  EXPECT_FALSE(fx_.reset_device("/tmp/bus/usb/001/004").ok());
  EXPECT_FALSE(fx_.set_port_power("/dev/../tmp/x", 1, true).ok());
  EXPECT_THAT(fx_.warm_reset_port("/dev/../tmp/x", 1).error().reason, HasSubstr("not below '/dev'"));
  EXPECT_THAT(usbfs_.calls(), IsEmpty());
}

TEST_F(LinuxEffectsTest, ResetDeviceSendsUsbdevfsResetToTheNode) {
  ASSERT_TRUE(fx_.reset_device(kDevNode).ok());
  auto calls = usbfs_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].devnode, kDevNode);
  EXPECT_EQ(calls[0].request, static_cast<unsigned long>(USBDEVFS_RESET));
}

TEST_F(LinuxEffectsTest, PortPowerSendsHubClassPortFeatureRequests) {
  ASSERT_TRUE(fx_.set_port_power(kHubNode, 2, false).ok());
  ASSERT_TRUE(fx_.set_port_power(kHubNode, 3, true).ok());
  auto calls = usbfs_.calls();
  ASSERT_EQ(calls.size(), 2u);
  for (const UsbfsCall& c : calls) {
    EXPECT_EQ(c.devnode, kHubNode);
    EXPECT_EQ(c.request, static_cast<unsigned long>(USBDEVFS_CONTROL));
    EXPECT_EQ(c.request_type, 0x23);
    EXPECT_EQ(c.value, 8);  // PORT_POWER
    EXPECT_EQ(c.length, 0);
    EXPECT_EQ(c.timeout, 5000u);
  }
  EXPECT_EQ(calls[0].b_request, 1);  // ClearPortFeature
  EXPECT_EQ(calls[0].index, 2);
  EXPECT_EQ(calls[1].b_request, 3);  // SetPortFeature
  EXPECT_EQ(calls[1].index, 3);
}

// The port's status as a SuperSpeed hub answers GetPortStatus: wPortStatus, then no change bits.
std::vector<std::uint8_t> port_status(std::uint16_t status) {
  return {static_cast<std::uint8_t>(status & 0xff), static_cast<std::uint8_t>(status >> 8), 0, 0};
}

void expect_get_port_status(const UsbfsCall& c, std::uint16_t port) {
  EXPECT_EQ(c.request, static_cast<unsigned long>(USBDEVFS_CONTROL));
  EXPECT_EQ(c.request_type, 0xa3);
  EXPECT_EQ(c.b_request, 0);  // GET_STATUS
  EXPECT_EQ(c.value, 0);
  EXPECT_EQ(c.index, port);
  EXPECT_EQ(c.length, 4);
}

// Issue 15: SetPortFeature(BH_PORT_RESET) on the hub's node, then GetPortStatus until the port is
// out of reset with its link up; here the hub says "resetting" twice first.
TEST_F(LinuxEffectsTest, WarmResetSendsBhPortResetAndWaitsUntilThePortIsUp) {
  int status_reads = 0;
  usbfs_.on_request(USBDEVFS_CONTROL, [&status_reads](testing::IoctlCall& call) -> testing::IoctlReply {
    UsbfsCall& r = call.record();
    if (r.request_type != 0xa3) return {0, 0};
    const std::uint16_t status = ++status_reads <= 2 ? 0x0211 : 0x0203;  // PORT_RESET, then U0 enabled
    std::uint8_t* buf = call.pointee(offsetof(usbdevfs_ctrltransfer, data), 4);
    if (buf == nullptr) return {-1, EFAULT};
    const auto bytes = port_status(status);
    std::copy(bytes.begin(), bytes.end(), buf);
    r.data = bytes;
    return {4, 0};
  });
  ASSERT_TRUE(fx_.warm_reset_port(kHubNode, 3).ok());
  auto calls = usbfs_.calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[0].devnode, kHubNode);
  EXPECT_EQ(calls[0].request, static_cast<unsigned long>(USBDEVFS_CONTROL));
  EXPECT_EQ(calls[0].request_type, 0x23);
  EXPECT_EQ(calls[0].b_request, 3);  // SetPortFeature
  EXPECT_EQ(calls[0].value, 28);     // BH_PORT_RESET
  EXPECT_EQ(calls[0].index, 3);
  EXPECT_EQ(calls[0].length, 0);
  EXPECT_EQ(calls[0].timeout, 5000u);
  for (std::size_t i = 1; i < calls.size(); ++i) expect_get_port_status(calls[i], 3);
}

TEST_F(LinuxEffectsTest, WarmResetRefusedByTheHubIsTheRequestsError) {
  usbfs_.fail(kHubNode, USBDEVFS_CONTROL, EPIPE, 1);  // a USB 2.0 hub stalls feature 28
  auto st = fx_.warm_reset_port(kHubNode, 3);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(), kHubNode + ": port 3 warm reset failed: Broken pipe");
  EXPECT_EQ(usbfs_.calls().size(), 1u);  // no status read after a refused request
  EXPECT_EQ(fx_.warm_reset_port(kHubNode, 0).error().reason, "port 0 warm reset: no such port");
}

TEST_F(LinuxEffectsTest, WarmResetFailsWhenThePortSaysTheDeviceIsGone) {
  usbfs_.on_control(kHubNode, {0xa3, 0, std::nullopt, std::nullopt}, {port_status(0x02a0), 0});
  auto st = fx_.warm_reset_port(kHubNode, 3);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(),
            kHubNode +
                ": port 3 warm reset: no device is connected to the port after the warm "
                "reset (port status 0x02a0, link Rx.Detect)");
}

TEST_F(LinuxEffectsTest, WarmResetGivesUpOnAPortThatStaysInReset) {
  usbfs_.on_control(kHubNode, {0xa3, 0, std::nullopt, std::nullopt}, {port_status(0x0211), 0});
  const auto t0 = std::chrono::steady_clock::now();
  auto st = fx_.warm_reset_port(kHubNode, 3);
  ASSERT_FALSE(st.ok());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  EXPECT_EQ(
      st.error().reason,
      "port 3 warm reset: not over after 1s: the port is still resetting (port status 0x0211, link U0)");
  auto calls = usbfs_.calls();
  EXPECT_GT(calls.size(), 10u) << "the status is read again and again until the bound";
}

TEST_F(LinuxEffectsTest, HandlerErrorsComeBackAsTheRightError) {
  for (int err : {EPIPE, ENODEV, EACCES, ETIMEDOUT}) {
    usbfs_.clear_failures();
    usbfs_.fail("", UsbfsFake::kAnyRequest, err);
    auto off = fx_.set_port_power(kHubNode, 2, false);
    ASSERT_FALSE(off.ok());
    EXPECT_EQ(off.error().errnum, err);
    EXPECT_EQ(off.error().object, kHubNode);
    EXPECT_EQ(off.error().reason, "port 2 power off failed");
    auto reset = fx_.reset_device(kDevNode);
    ASSERT_FALSE(reset.ok());
    EXPECT_EQ(reset.error().errnum, err);
    EXPECT_EQ(reset.error().message(), kDevNode + ": USBDEVFS_RESET failed: " + std::strerror(err));
  }
  usbfs_.clear_failures();
  usbfs_.fail("", UsbfsFake::kAnyRequest, EPIPE);
  EXPECT_EQ(fx_.set_port_power(kHubNode, 2, false).error().message(),
            kHubNode + ": port 2 power off failed: Broken pipe");
}

TEST_F(LinuxEffectsTest, AMissingNodeIsAnOpenError) {
  auto st = fx_.reset_device("/dev/bus/usb/001/099");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().reason, "open failed");
  EXPECT_EQ(st.error().errnum, ENOENT);
}

// hold_resumed() keeps the node open (usbfs's runtime PM reference on the device) until the
// LinuxEffects is destroyed, once per node however often it is asked, and sends the device
// nothing.
TEST_F(LinuxEffectsTest, HoldResumedKeepsANodeOpenOnceUntilDestroyed) {
  {
    LinuxEffects fx("/sys", "/dev");
    ASSERT_TRUE(fx.hold_resumed(kHubNode).ok());
    ASSERT_TRUE(fx.hold_resumed(kHubNode).ok());
    ASSERT_TRUE(fx.hold_resumed(kDevNode).ok());
    EXPECT_EQ(usbfs_.open_now(kHubNode), 1);
    EXPECT_EQ(usbfs_.open_now(kDevNode), 1);
    EXPECT_EQ(fx.hold_resumed("/dev/bus/usb/001/099").error().errnum, ENOENT);
    EXPECT_THAT(fx.hold_resumed("/dev/../tmp/x").error().reason, HasSubstr("not below '/dev'"));
    EXPECT_THAT(usbfs_.calls(), IsEmpty());
  }
  EXPECT_EQ(usbfs_.open_now(kHubNode), 0);
  EXPECT_EQ(usbfs_.open_now(kDevNode), 0);
}

TEST_F(LinuxEffectsTest, ExecutorUndoesAFailedPowerOffThroughTheHandler) {
  Snapshot s;
  s.device.sysname = "1-1.2";
  s.device.syspath = dev_;
  s.device.devnode = kDevNode;
  s.hub = Hub{};
  s.hub->device.sysname = "1-1";
  s.hub->device.devnode = kHubNode;
  s.hub->switching = PowerSwitching::PerPort;
  s.port = Port{};
  s.port->syspath = hub_ + "/1-1:1.0/1-1-port2";
  s.port->number = 2;
  auto plan = plan_method(s, Method::PortPower);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  TempDir state;
  IntentJournal journal(state.path());
  usbfs_.fail("", UsbfsFake::kAnyRequest, EPIPE, 1);
  RunReport r = execute(*plan, fx_, journal, "1-1.2 0665:5161");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->message(), kHubNode + ": port 2 power off failed: Broken pipe");
  EXPECT_THAT(r.left_off, IsEmpty());
  auto calls = usbfs_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].b_request, 1);
  EXPECT_EQ(calls[1].b_request, 3);
  EXPECT_THAT(state.files("intents"), IsEmpty());
}

TEST_F(LinuxEffectsTest, RebindWritesTheDriversBindFiles) {
  std::string usbhid = driver_dir("usb", "usbhid");
  ASSERT_TRUE(fx_.write_sysfs(usbhid + "/unbind", "1-1.2:1.0").ok());
  EXPECT_EQ(slurp(usbhid + "/unbind"), "1-1.2:1.0");
}

TEST_F(LinuxEffectsTest, RepairRestoresWhatAnIntentRecords) {
  std::string attr = dev_ + "/authorized";
  ASSERT_TRUE(fx_.write_sysfs(attr, "0").ok());
  TempDir state;
  std::filesystem::create_directories(state.path() + "/intents");
  std::ofstream(state.path() + "/intents/a.intent")
      << "usbrecover-intent 1\ndevice 1-1.2 0665:5161\nundo write " << attr << " 1\n";
  std::ofstream(state.path() + "/intents/b.intent") << "usbrecover-intent 1\ndevice x\nundo write /etc/x 1\n";
  std::ostringstream out;
  std::ostringstream err;
  Context ctx{out,         err,     "/sys", "/dev", state.path(), "/proc/self/mountinfo", "/run/udev/control",
              "/dev/null", "/proc", ""};
  EXPECT_EQ(cmd_repair({}, ctx), kExitOk);
  EXPECT_EQ(out.str(), "restored: write " + attr + " 1 (1-1.2 0665:5161)\n");
  EXPECT_THAT(err.str(), HasSubstr("/etc/x 1: path is not below '/sys', ignoring\n"));
  EXPECT_EQ(slurp(attr), "1");
  EXPECT_THAT(state.files("intents"), ElementsAre("b.intent"));
}

TEST_F(LinuxEffectsTest, RepairFailsWhenAnUndoFails) {
  TempDir state;
  std::filesystem::create_directories(state.path() + "/intents");
  std::ofstream(state.path() + "/intents/a.intent")
      << "usbrecover-intent 1\ndevice 1-1.2 0665:5161\nundo port-power " << kHubNode << " 2 on\n";
  usbfs_.fail("", UsbfsFake::kAnyRequest, ETIMEDOUT);
  std::ostringstream out;
  std::ostringstream err;
  Context ctx{out,         err,     "/sys", "/dev", state.path(), "/proc/self/mountinfo", "/run/udev/control",
              "/dev/null", "/proc", ""};
  EXPECT_EQ(cmd_repair({}, ctx), kExitFailed);
  EXPECT_EQ(err.str(), "usbrecover: repair: port-power " + kHubNode + " 2 on (1-1.2 0665:5161): " + kHubNode +
                           ": port 2 power on failed: Connection timed out\n");
  EXPECT_THAT(state.files("intents"), ElementsAre("a.intent"));
  EXPECT_EQ(cmd_repair({"--bogus"}, ctx), kExitUsage);
}

// Regression (rebind): when a driver already has an interface through another one (cdc_acm binds
// the data interface with the control one), the kernel answers the second bind with EBUSY,
// EEXIST or ENODEV depending on the driver; judged by the errno, that left an intent on disk.
// Whatever the failure, the interface's driver link decides.
TEST(LinuxEffectsBind, AFailedBindOrUnbindIsJudgedByTheDriverLink) {
  TempDir root("/tmp");
  const std::string sys = root.path() + "/sys";
  const std::string drivers = sys + "/bus/usb/drivers";
  const std::string devices = sys + "/bus/usb/devices";
  std::filesystem::create_directories(drivers + "/cdc_acm/bind");    // a directory: every write fails
  std::filesystem::create_directories(drivers + "/cdc_acm/unbind");  // (EISDIR), as a refusing kernel
  std::filesystem::create_directories(drivers + "/usbhid/bind");
  std::filesystem::create_directories(devices + "/1-1.2:1.1");
  LinuxEffects fx(sys, root.path() + "/dev");

  // Not bound at all: the bind really failed, and so did nothing for the unbind.
  EXPECT_FALSE(fx.write_sysfs(drivers + "/cdc_acm/bind", "1-1.2:1.1").ok());
  EXPECT_TRUE(fx.write_sysfs(drivers + "/cdc_acm/unbind", "1-1.2:1.1").ok());
  // Bound to cdc_acm already: the bind is done, the unbind is not.
  std::filesystem::create_directory_symlink("../../drivers/cdc_acm", devices + "/1-1.2:1.1/driver");
  EXPECT_TRUE(fx.write_sysfs(drivers + "/cdc_acm/bind", "1-1.2:1.1").ok());
  auto unbind = fx.write_sysfs(drivers + "/cdc_acm/unbind", "1-1.2:1.1");
  ASSERT_FALSE(unbind.ok());
  EXPECT_EQ(unbind.error().errnum, EISDIR);
  // Bound to another driver: a bind of usbhid did not happen.
  EXPECT_FALSE(fx.write_sysfs(drivers + "/usbhid/bind", "1-1.2:1.1").ok());
}

using Clock = std::chrono::steady_clock;

TEST(LinuxEffectsPause, WaitsAtLeastTheDuration) {
  LinuxEffects fx("/sys", "/dev");
  auto t0 = Clock::now();
  fx.pause(std::chrono::milliseconds(120));
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(120));
}

// Sends SIGTERM to this thread after `after`, from a helper thread.
std::thread signal_later(std::chrono::milliseconds after) {
  pthread_t me = pthread_self();
  return std::thread([me, after] {
    std::this_thread::sleep_for(after);
    pthread_kill(me, SIGTERM);
  });
}

TEST(LinuxEffectsPause, ASignalCutsThePauseShortWhenTheCallerSaysStop) {
  InterruptGuard guard;
  LinuxEffects fx("/sys", "/dev", [&] { return guard.caught() != 0; });
  auto t0 = Clock::now();
  std::thread t = signal_later(std::chrono::milliseconds(50));
  fx.pause(std::chrono::seconds(10));
  t.join();
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(guard.caught(), SIGTERM);
}

TEST(LinuxEffectsPause, ASignalTheCallerIgnoresDoesNotShortenThePause) {
  InterruptGuard guard;
  LinuxEffects fx("/sys", "/dev", [] { return false; });
  auto t0 = Clock::now();
  std::thread t = signal_later(std::chrono::milliseconds(20));
  fx.pause(std::chrono::milliseconds(200));
  t.join();
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(200));
  EXPECT_EQ(guard.caught(), SIGTERM);
}

}  // namespace
}  // namespace usbrecover
