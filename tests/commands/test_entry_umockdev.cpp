// SPDX-License-Identifier: MIT
// The entry points end to end against a umockdev testbed: explain, handle for each trigger,
// the NUT instance lookup, and fifty concurrent helpers doing one recovery.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/usbdevice_fs.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "act/intent.hpp"
#include "act/methods.hpp"
#include "commands/commands.hpp"
#include "commands/entry.hpp"
#include "decide/history.hpp"
#include "decide/state_store.hpp"
#include "fake_udevd.hpp"
#include "testbed.hpp"

extern char** environ;

namespace usbrecover {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::HubSpec;
using testing::Testbed;

/// The table properties the generated rules would set for the UPS.
std::vector<std::pair<std::string, std::string>> table_props(const std::string& methods,
                                                             const std::string& cooldown_ms) {
  return {{"USBRECOVER_SCHEMA", "1"},
          {"USBRECOVER_NAME", "INNO TECH UPS"},
          {"USBRECOVER_SOURCE", "t.toml:3"},
          {"USBRECOVER_METHODS", methods},
          {"USBRECOVER_MAX_RESETS", "3"},
          {"USBRECOVER_WINDOW_MS", "3600000"},
          {"USBRECOVER_COOLDOWN_MS", cooldown_ms},
          {"USBRECOVER_PROBE", "none"},
          {"USBRECOVER_ALLOW_COLLATERAL", "0"}};
}

/// controller 0000:00:14.0 / usb1 / hub 1-1 (per-port power) / UPS on 1-1.1, stick on 1-1.2
/// (mounted), and an unlisted keyboard on 1-2.
struct Bed {
  explicit Bed(const std::string& methods = "authorize", const std::string& cooldown_ms = "30000") {
    bed = std::make_unique<Testbed>();
    auto pci = bed->add_pci_controller("0000:00:14.0", "xhci_hcd");
    auto usb1 = bed->add_root_hub(pci, 1, HubSpec{4, PowerSwitching::PerPort, 20, false, true});
    hub = bed->add_hub(usb1, 1, {0x05e3, 0x0608, "Genesys", "Hub", "", "480", "2.00", 9, {}, {}},
                       HubSpec{4, PowerSwitching::PerPort, 100, false, true});
    ups = bed->add_device(hub, 1, testing::inno_tech_ups(table_props(methods, cooldown_ms)));
    stick = bed->add_device(hub, 2,
                            {0x0781,
                             0x5583,
                             "SanDisk",
                             "Ultra Fit",
                             "4C53",
                             "480",
                             "2.00",
                             0,
                             {{0, 8, 6, 0x50, "usb-storage", {}}},
                             {}});
    bed->add_disk(Testbed::interface_path(stick, 0), "sdb", 8, 16);
    keyboard = bed->add_device(
        usb1, 2,
        {0x046d, 0xc31c, "Logitech", "USB Keyboard", "", "1.5", "1.10", 0, {{0, 3, 1, 1, "usbhid", {}}}, {}});
    mountinfo = bed->write_mountinfo("98 22 8:17 / /media/stick rw - vfat /dev/sdb1 rw\n");
    char tmpl[] = "/tmp/usbrecover-entry.XXXXXX";
    state = ::mkdtemp(tmpl);
    udevd = std::make_unique<testing::FakeUdevd>(state + "/udev-control");
    udev_control = udevd->path();
  }
  ~Bed() { fs::remove_all(state); }

  /// Runs a command in-process; returns its exit code, stdout and stderr.
  int run(int (*cmd)(const Args&, Context&), const Args& args) {
    out.str({});
    err.str({});
    Context ctx{out, err, "/sys", "/dev", state, mountinfo, udev_control, "/dev/null", proc_root, ""};
    return cmd(args, ctx);
  }

  std::string key() const { return port_key("1-1.1"); }
  History history() const {
    auto h = StateStore(state).load(key());
    EXPECT_TRUE(h.ok());
    return h ? *h : History{};
  }
  void record_failed_service_run() {
    History h = history();
    h.services.push_back({1, "nut-driver@myups.service", true, "exit-code", "exited", "1"});
    ASSERT_TRUE(StateStore(state).save(key(), h).ok());
  }

  std::unique_ptr<Testbed> bed;
  std::string hub, ups, stick, keyboard, mountinfo, state;
  std::unique_ptr<testing::FakeUdevd> udevd;  ///< "udevd runs"; reset() it to say it does not
  std::string udev_control;
  std::string proc_root = "/proc";
  std::ostringstream out, err;
};

TEST(Explain, ShowsTheDecisionItsReasonsAndTheLadder) {
  Bed b("device,hub,port-power");
  ASSERT_EQ(b.run(cmd_explain, {"0665:5161"}), kExitOk) << b.err.str();
  const std::string text = b.out.str();
  EXPECT_THAT(text, HasSubstr("table entry: INNO TECH UPS (t.toml:3)"));
  EXPECT_THAT(text,
              HasSubstr("recover: the probe failed (assumed: explain does not probe without --probe); start "
                        "with device"));
  EXPECT_THAT(text, HasSubstr("  try  device: disturbs no other device\n"));
  EXPECT_THAT(text,
              HasSubstr("  skip hub: would also disturb 1-1.2 (0781:5583 SanDisk Ultra Fit, mounted on "
                        "/media/stick); the policy does not allow collateral (a mounted filesystem may lose "
                        "data)"));
  EXPECT_THAT(text, HasSubstr("  try  port-power: disturbs no other device\n"));
  EXPECT_THAT(text,
              HasSubstr("write /sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/1-1-port1/disable 1"));
  // explain acts on nothing: no ioctl reached the device and no history was written.
  EXPECT_TRUE(b.bed->usbfs().calls(b.bed->devnode(b.ups)).empty());
  EXPECT_FALSE(fs::exists(b.state + "/history"));
}

TEST(Explain, ReadsTheWholeControllerOnlyWhenThePolicyMayUseIt) {
  {
    Bed b("device");
    ASSERT_EQ(b.run(cmd_explain, {"--syspath", b.ups, "--json"}), kExitOk) << b.err.str();
    // The keyboard on the root hub is outside the UPS's hub: not read at all.
    EXPECT_THAT(b.out.str(), ::testing::Not(HasSubstr("046d")));
  }
  Bed b("device,controller");
  ASSERT_EQ(b.run(cmd_explain, {"--syspath", b.ups}), kExitOk) << b.err.str();
  // Every device on the controller, the keyboard outside the UPS's hub included; the hub
  // counts as mounted since the stick's filesystem is below it.
  EXPECT_THAT(b.out.str(),
              HasSubstr("skip controller: would also disturb 1-1.2 (0781:5583 SanDisk Ultra Fit, "
                        "mounted on /media/stick), 1-1 (05e3:0608 Genesys Hub, mounted on "
                        "/media/stick), 1-2 (046d:c31c Logitech USB Keyboard)"));
}

TEST(Explain, JsonCarriesTheSameDecision) {
  Bed b;
  ASSERT_EQ(b.run(cmd_explain, {"1-1.1", "--trigger", "add", "--json"}), kExitOk) << b.err.str();
  const std::string json = b.out.str();
  EXPECT_THAT(json, HasSubstr("\"verdict\": \"recover\""));
  EXPECT_THAT(json, HasSubstr("\"trigger\": \"add\""));
  EXPECT_THAT(json, HasSubstr("\"entry\": \"INNO TECH UPS\""));
}

// Issue 14: a device that port-power cured last time starts there, and explain says why.
TEST(Explain, SaysItStartsAtTheMethodThatCuredTheDeviceLastTime) {
  Bed b("device,hub,port-power");
  const EpochMs cured_at = epoch_now() - 2 * 24 * 3600 * 1000;
  History h;
  h.attempts = {{cured_at - 60'000, Method::Device, false, "back but the probe failed: no answer"},
                {cured_at, Method::PortPower, true, "verified"}};
  ASSERT_TRUE(StateStore(b.state).save(b.key(), h).ok());

  ASSERT_EQ(b.run(cmd_explain, {"0665:5161"}), kExitOk) << b.err.str();
  const std::string text = b.out.str();
  EXPECT_THAT(text, HasSubstr("; start with port-power\n"));
  EXPECT_THAT(text,
              HasSubstr("  because start at port-power: it cured this device at " + format_utc(cured_at) +
                        "; before it, device had failed (if it fails, the next recovery starts from "
                        "the bottom again)\n"));
  EXPECT_THAT(text, HasSubstr("  skip device: skipped: port-power cured this device the last time\n"));
  EXPECT_THAT(text, HasSubstr("  try  port-power: disturbs no other device\n"));

  ASSERT_EQ(b.run(cmd_explain, {"0665:5161", "--json"}), kExitOk) << b.err.str();
  const std::string json = b.out.str();
  EXPECT_THAT(json, HasSubstr("start at port-power: it cured this device at " + format_utc(cured_at)));
  EXPECT_THAT(json,
              HasSubstr("  \"remembered_cure\": {\n    \"method\": \"port-power\",\n    \"cured_at_ms\": [\n"
                        "      " +
                        std::to_string(cured_at) +
                        "\n    ],\n    \"failed_below\": [\n      \"device\"\n    ],\n    \"starts_here\": "
                        "true\n  },\n"));

  // Without the history, the same device starts at the bottom and remembers nothing.
  ASSERT_TRUE(StateStore(b.state).save(b.key(), History{}).ok());
  ASSERT_EQ(b.run(cmd_explain, {"0665:5161", "--json"}), kExitOk) << b.err.str();
  EXPECT_THAT(b.out.str(), HasSubstr("\"remembered_cure\": null"));
}

TEST(Explain, RefusesAmbiguityAndNamesMissingDevices) {
  Bed b;
  EXPECT_EQ(b.run(cmd_explain, {"ffff:0001"}), kExitNotFound);
  EXPECT_EQ(b.err.str(), "usbrecover: explain: no USB device matches 'ffff:0001'\n");
  EXPECT_EQ(b.run(cmd_explain, {"0665:5161", "--trigger", "reboot"}), kExitUsage);
}

/// udev's name for a USB device in its tag index: "c189:" and its node's minor.
std::string udev_id(const Testbed& bed, const std::string& device) {
  const std::string node = bed.devnode(device);  // /dev/bus/usb/BBB/DDD
  const unsigned bus = static_cast<unsigned>(std::stoul(node.substr(13, 3)));
  const unsigned devnum = static_cast<unsigned>(std::stoul(node.substr(17, 3)));
  return "c189:" + std::to_string((bus - 1) * 128 + devnum - 1);
}

TEST(Explain, FindsADeviceByIdsInUdevsIndexOfTheTablesIds) {
  Bed b;
  // A twin of the UPS on port 3 that the rules tagged as they do now (USBRECOVER_TABLE_IDS=1);
  // the UPS's tag, if any, is older than the rules of its last event.
  auto twin_props = table_props("device", "30000");
  twin_props.emplace_back("USBRECOVER_TABLE_IDS", "1");
  const std::string twin = b.bed->add_device(b.hub, 3, testing::inno_tech_ups(twin_props));
  const std::string tags = b.state + "/tags/usbrecover";
  auto tag = [&](std::vector<std::string> names) {
    fs::remove_all(tags);
    fs::create_directories(tags);
    for (const auto& n : names) std::ofstream(tags + "/" + n).flush();
  };
  auto explain = [&] { return b.run(cmd_explain, {"0665:5161", "--json"}); };

  // No index (no udevd, or nothing tagged): every device's ids are read, and the twins refused.
  EXPECT_EQ(explain(), kExitRefused);
  EXPECT_THAT(b.err.str(), HasSubstr("matches 2 devices"));
  // Both tagged: both found, and refused.
  tag({udev_id(*b.bed, b.ups), udev_id(*b.bed, twin)});
  EXPECT_EQ(explain(), kExitRefused);
  EXPECT_THAT(b.err.str(), HasSubstr("matches 2 devices"));
  // Only the twin tagged under the rules as they are: the index alone is read. (udev would have
  // tagged the UPS too; this shows whose word the lookup takes.)
  tag({udev_id(*b.bed, twin)});
  ASSERT_EQ(explain(), kExitOk) << b.err.str();
  EXPECT_THAT(b.out.str(), HasSubstr("\"port_path\": \"1-1.3\""));
  // Only a tag the rules of its last event did not give (no USBRECOVER_TABLE_IDS): not trusted.
  tag({udev_id(*b.bed, b.ups)});
  EXPECT_EQ(explain(), kExitRefused);
  EXPECT_THAT(b.err.str(), HasSubstr("matches 2 devices"));
  // Names that are not a USB device's, or a device that is gone, are passed over.
  tag({"c189:", "c189:x1", "c189:1..", "b8:16", "+usb:1-1.3", "c189:99999", "c189:123456789"});
  EXPECT_EQ(explain(), kExitRefused);
  EXPECT_THAT(b.err.str(), HasSubstr("matches 2 devices"));
}

TEST(Handle, AddLeavesADeviceThatHasNoProbeToFail) {
  Bed b;
  ASSERT_EQ(b.run(cmd_handle, {"--trigger", "add", "--syspath", b.ups}), kExitOk) << b.err.str();
  EXPECT_THAT(b.err.str(), HasSubstr("'1-1.1' (0665:5161): leave it: no probe is configured"));
  EXPECT_TRUE(b.history().attempts.empty());
}

TEST(Handle, ADeviceOutsideTheTableIsLeftAlone) {
  Bed b;
  ASSERT_EQ(b.run(cmd_handle, {"--trigger", "service-start", "--match", "046d:c31c"}), kExitOk);
  EXPECT_THAT(b.err.str(), HasSubstr("'1-2' (046d:c31c) is not in the usbrecover table"));
}

TEST(Handle, ServiceStopRecordsTheResultAndTheNextStartRecovers) {
  Bed b("authorize");
  ::setenv("SERVICE_RESULT", "exit-code", 1);
  ::setenv("EXIT_CODE", "exited", 1);
  ::setenv("EXIT_STATUS", "1", 1);
  ASSERT_EQ(
      b.run(cmd_handle, {"--trigger", "service-stop", "--unit", "myups.service", "--match", "0665:5161"}),
      kExitOk);
  ::unsetenv("SERVICE_RESULT");
  ::unsetenv("EXIT_CODE");
  ::unsetenv("EXIT_STATUS");
  ASSERT_EQ(b.history().services.size(), 1u);
  EXPECT_TRUE(b.history().services[0].failed);

  ASSERT_EQ(
      b.run(cmd_handle, {"--trigger", "service-start", "--unit", "myups.service", "--match", "0665:5161"}),
      kExitOk)
      << b.err.str();
  EXPECT_THAT(b.err.str(), HasSubstr("recover: the last run of myups.service failed"));
  EXPECT_THAT(b.err.str(), HasSubstr("recovered with authorize: verified"));
  auto h = b.history();
  ASSERT_EQ(h.attempts.size(), 1u);
  EXPECT_EQ(h.attempts[0].method, Method::Authorize);
  EXPECT_TRUE(h.attempts[0].recovered);
  // The device is authorized again: nothing was left off.
  std::ifstream authorized(b.bed->root_dir() + b.ups + "/authorized");
  std::string value;
  authorized >> value;
  EXPECT_EQ(value, "1");

  // Started again with nothing new: the recovery stands, nothing to do.
  ASSERT_EQ(b.run(cmd_handle, {"--trigger", "service-start", "--match", "0665:5161"}), kExitOk);
  EXPECT_THAT(b.err.str(), HasSubstr("leave it"));
  EXPECT_EQ(b.history().attempts.size(), 1u);
}

TEST(Handle, NutInstanceFindsItsDeviceThroughUpsConf) {
  Bed b;
  std::string conf = b.state + "/ups.conf";
  std::ofstream(conf)
      << "[myups]\n  driver = nutdrv_qx\n  port = auto\n  vendorid = 0665\n  productid = 5161\n"
         "[snmp]\n  driver = snmp-ups\n  port = 10.0.0.5\n";
  ASSERT_EQ(b.run(cmd_handle, {"--trigger", "service-start", "--nut-instance", "myups", "--ups-conf", conf}),
            kExitOk)
      << b.err.str();
  EXPECT_THAT(b.err.str(), HasSubstr("'1-1.1' (0665:5161): leave it"));
  ASSERT_EQ(b.run(cmd_handle, {"--trigger", "service-start", "--nut-instance", "snmp", "--ups-conf", conf}),
            kExitOk);
  EXPECT_THAT(b.err.str(), HasSubstr("nothing to do: driver snmp-ups does not talk USB"));
  EXPECT_EQ(b.run(cmd_handle, {"--trigger", "service-start", "--nut-instance", "nosuch", "--ups-conf", conf}),
            kExitData);
  EXPECT_THAT(b.err.str(), HasSubstr(conf + ": no section [nosuch]"));
}

// Regression: the drop-in passed %I ("my/ups" for the unit nut-driver@my-ups) and the section was
// never found. With %i, a section is found by its name or by NUT's MD5_ name for it, and a line
// NUT 2.8.0 accepts elsewhere in the file (an unquoted description of several words) is read as
// NUT reads it rather than failing every instance.
TEST(Handle, EveryNutInstanceNameFindsItsSection) {
  Bed b;
  std::string conf = b.state + "/ups.conf";
  std::ofstream(conf) << "maxretry = 3\n[other]\n  driver = usbhid-ups\n  desc = Server room UPS\n"
                         "[my-ups]\n  driver = nutdrv_qx\n  port = auto\n  vendorid = 0665\n"
                         "[ups@rack]\n  driver = nutdrv_qx\n  port = auto\n  productid = 5161\n";
  for (const char* instance : {"my-ups", "MD5_f5ac67eca91a7e5569135c4f74a324d3"}) {
    ASSERT_EQ(
        b.run(cmd_handle, {"--trigger", "service-start", "--nut-instance", instance, "--ups-conf", conf}),
        kExitOk)
        << instance << ": " << b.err.str();
    EXPECT_THAT(b.err.str(), HasSubstr("'1-1.1' (0665:5161): leave it")) << instance;
  }
}

/// A tty `name` (device number `majmin`) below `parent`, with /sys/class/tty/<name>, and its node:
/// a plain file in the testbed's /dev, which umockdev's stat() reports as the character device.
/// (umockdev's own tty nodes are symlinks to a pty, and its realpath() cannot resolve those.)
void add_tty(Testbed& bed, const std::string& parent, const std::string& name, const std::string& majmin) {
  g_free(umockdev_testbed_add_device(bed.native(), "tty", name.c_str(), parent.c_str(), "dev", majmin.c_str(),
                                     nullptr, "DEVNAME", ("/dev/" + name).c_str(), nullptr));
  std::ofstream(bed.root_dir() + "/dev/" + name).flush();
}

/// The Bed plus a serial UPS behind an FTDI cable on 1-1.3 (its tty ttyUSB0, also reachable as
/// /dev/serial/by-id/...) and an on-board serial port ttyS0; `ups.conf` has a section for each.
struct SerialBed : Bed {
  SerialBed() {
    ftdi = bed->add_device(hub, 3,
                           {0x0403,
                            0x6001,
                            "FTDI",
                            "FT232R USB UART",
                            "A10K1XYZ",
                            "12",
                            "2.00",
                            0,
                            {{0, 0xff, 0xff, 0xff, "ftdi_sio", {}}},
                            {}});
    add_tty(*bed, Testbed::interface_path(ftdi, 0), "ttyUSB0", "188:0");
    gchar* platform =
        umockdev_testbed_add_device(bed->native(), "platform", "serial8250", nullptr, nullptr, nullptr);
    add_tty(*bed, platform, "ttyS0", "4:64");
    g_free(platform);
    fs::create_directories(bed->root_dir() + "/dev/serial/by-id");
    fs::create_symlink("../../ttyUSB0", bed->root_dir() + "/dev/serial/by-id/" + kById);
    conf = state + "/ups.conf";
    std::ofstream(conf) << "[serialups]\n  driver = nutdrv_qx\n  port = /dev/ttyUSB0\n"
                        << "[byid]\n  driver = blazer_ser\n  port = /dev/serial/by-id/" << kById << "\n"
                        << "[unplugged]\n  driver = nutdrv_qx\n  port = /dev/serial/by-id/" << kAbsent << "\n"
                        << "[onboard]\n  driver = nutdrv_qx\n  port = /dev/ttyS0\n";
  }
  int handle(const std::string& instance) {
    return run(cmd_handle,
               {"--trigger", "service-start", "--nut-instance", instance, "--ups-conf", conf, "--dry-run"});
  }
  static constexpr const char* kById = "usb-FTDI_FT232R_USB_UART_A10K1XYZ-if00-port0";
  static constexpr const char* kAbsent = "usb-Prolific_Technology_Inc._USB-Serial_Controller-if00-port0";
  std::string ftdi, conf;
};

TEST(Handle, SerialNutInstanceFindsTheUsbCableBehindItsPort) {
  SerialBed b;
  ASSERT_EQ(b.handle("serialups"), kExitOk) << b.err.str();
  EXPECT_THAT(b.err.str(), HasSubstr("'1-1.3' (0403:6001) is not in the usbrecover table"));
  ASSERT_EQ(b.handle("byid"), kExitOk) << b.err.str();
  EXPECT_THAT(b.err.str(), HasSubstr("'1-1.3' (0403:6001) is not in the usbrecover table"));
}

TEST(Handle, SerialNutInstanceSaysWhenItsPortIsMissingOrNotOnUsb) {
  SerialBed b;
  EXPECT_EQ(b.handle("unplugged"), kExitNotFound);
  EXPECT_EQ(b.err.str(), std::string("usbrecover: handle: port /dev/serial/by-id/") + SerialBed::kAbsent +
                             " of NUT instance [unplugged] does not exist (is the adapter plugged in?)\n");
  ASSERT_EQ(b.handle("onboard"), kExitOk) << b.err.str();
  EXPECT_EQ(b.err.str(),
            "usbrecover: handle: nothing to do: port /dev/ttyS0 of NUT instance [onboard] is not on USB\n");
}

// Regression (multi-port serial adapters): an FT2232 is one USB device with two ttys, and every
// method drops both. The users of the port the run was not asked for (another NUT instance, a
// process that holds it open) are collateral, named, and refused without allow_collateral.
TEST(Handle, AResetOfAMultiPortAdapterNamesTheOtherPortsUsers) {
  Bed b;
  auto props = table_props("device", "0");
  const std::string dual =
      b.bed->add_device(b.hub, 3,
                        {0x0403,
                         0x6010,
                         "FTDI",
                         "Dual RS232-HS",
                         "FT2X",
                         "480",
                         "2.00",
                         0,
                         {{0, 0xff, 0xff, 0xff, "ftdi_sio", {}}, {1, 0xff, 0xff, 0xff, "ftdi_sio", {}}},
                         props});
  add_tty(*b.bed, Testbed::interface_path(dual, 0), "ttyUSB0", "188:0");
  add_tty(*b.bed, Testbed::interface_path(dual, 1), "ttyUSB1", "188:1");
  const std::string conf = b.state + "/ups.conf";
  std::ofstream(conf) << "[ups1]\n  driver = nutdrv_qx\n  port = /dev/ttyUSB0\n"
                      << "[ups2]\n  driver = blazer_ser\n  port = /dev/ttyUSB1\n";
  // ups2's driver runs and holds its port open.
  b.proc_root = b.state + "/proc";
  fs::create_directories(b.proc_root + "/4242/fd");
  std::ofstream(b.proc_root + "/4242/comm") << "blazer_ser\n";
  fs::create_symlink("/dev/ttyUSB1", b.proc_root + "/4242/fd/5");
  fs::create_directories(b.proc_root + "/4243/fd");  // a process with nothing of ours open
  std::ofstream(b.proc_root + "/4243/comm") << "bash\n";
  fs::create_symlink("/dev/pts/0", b.proc_root + "/4243/fd/0");

  History h;
  h.services.push_back({epoch_now() - 1000, "nut-driver@ups1.service", true, "exit-code", "exited", "1"});
  ASSERT_TRUE(StateStore(b.state).save(port_key("1-1.3"), h).ok());
  EXPECT_EQ(b.run(cmd_handle, {"--trigger", "service-start", "--nut-instance", "ups1", "--ups-conf", conf}),
            kExitRefused)
      << b.err.str();
  EXPECT_THAT(b.err.str(),
              HasSubstr("device: would also disturb ttyUSB1 of 1-1.3 (blazer_ser (pid 4242); NUT "
                        "instance [ups2]); the policy does not allow collateral"));
  EXPECT_THAT(b.err.str(), ::testing::Not(HasSubstr("ttyUSB0 of")));
  EXPECT_TRUE(b.history().attempts.empty());

  // Asked for the device itself, not one of its ports: both ports' users count.
  ASSERT_EQ(b.run(cmd_explain, {"--syspath", dual, "--ups-conf", conf}), kExitOk) << b.err.str();
  EXPECT_THAT(b.out.str(),
              HasSubstr("skip device: would also disturb ttyUSB0 of 1-1.3 (NUT instance [ups1]), "
                        "ttyUSB1 of 1-1.3 (blazer_ser (pid 4242); NUT instance [ups2])"));
}

TEST(Handle, RefusesCollateralAndSaysSo) {
  Bed b("hub", "0");
  b.record_failed_service_run();
  EXPECT_EQ(b.run(cmd_handle, {"--trigger", "service-start", "--match", "0665:5161"}), kExitRefused);
  EXPECT_THAT(b.err.str(), HasSubstr("refuse: no method of the policy can be used on this device"));
  EXPECT_TRUE(b.history().attempts.empty());
}

/// Plays the kernel for a port power cycle: once the port's `disable` has read 1 and then 0, the
/// device comes back under device number 9 and udev announces it (unless `comes_back` is false),
/// with `authorized` as the bus's authorized_default leaves it; a policy daemon may authorize it
/// `authorized_by_policy_after` later.
class PortPowerKernel {
 public:
  PortPowerKernel(Bed& b, bool comes_back, std::string authorized = "1",
                  std::optional<std::chrono::milliseconds> authorized_by_policy_after = std::nullopt)
      : b_(b) {
    thread_ = std::thread([this, comes_back, authorized, authorized_by_policy_after] {
      const std::string disable = Testbed::port_dir(b_.hub, 1) + "/disable";
      bool was_off = false;
      while (!stop_) {
        std::ifstream in(disable);
        std::string v;
        in >> v;
        if (v == "1") was_off = true;
        if (was_off && v == "0") {
          cycled_ = true;
          if (comes_back) {
            b_.bed->set_attribute(b_.ups, "devnum", "9");
            b_.bed->set_attribute(b_.ups, "authorized", authorized);
            umockdev_testbed_set_property(b_.bed->native(), b_.ups.c_str(), "DEVNUM", "009");
            umockdev_testbed_uevent(b_.bed->native(), b_.ups.c_str(), "add");
            if (authorized_by_policy_after) {
              std::this_thread::sleep_for(*authorized_by_policy_after);
              b_.bed->set_attribute(b_.ups, "authorized", "1");
              umockdev_testbed_uevent(b_.bed->native(), b_.ups.c_str(), "change");
            }
          }
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
  }
  ~PortPowerKernel() {
    stop_ = true;
    thread_.join();
  }
  bool cycled() const { return cycled_; }

 private:
  Bed& b_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> cycled_{false};
  std::thread thread_;
};

std::string port_disable(Bed& b) {
  std::ifstream in(Testbed::port_dir(b.hub, 1) + "/disable");
  std::string v;
  in >> v;
  return v;
}

TEST(Reset, PortPowerCyclesThePortAndWaitsForTheDeviceToComeBack) {
  Bed b;
  int rc;
  {
    PortPowerKernel kernel(b, true);
    rc = b.run(cmd_reset, {"1-1.1", "--method", "port-power", "--json", "--timeout", "10s"});
    EXPECT_TRUE(kernel.cycled());
  }
  ASSERT_EQ(rc, kExitOk) << b.err.str();
  EXPECT_THAT(b.out.str(), HasSubstr("\"verified\": true"));
  EXPECT_THAT(b.out.str(), HasSubstr("\"devnum\": 9"));
  EXPECT_THAT(b.out.str(),
              HasSubstr("\"write /sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/1-1-port1/disable "
                        "1\""));
  EXPECT_THAT(b.out.str(), HasSubstr("\"pause 100ms\""));
  // The hub is held resumed through its usbfs node for the whole run, and that worked.
  EXPECT_THAT(b.out.str(), HasSubstr("\"keep_resumed\": [\n    \"/dev/bus/usb/001/"));
  EXPECT_THAT(b.err.str(), Not(HasSubstr("cannot keep hub")));
  EXPECT_EQ(port_disable(b), "0");
  EXPECT_FALSE(fs::exists(b.state + "/intents") && !fs::is_empty(b.state + "/intents"));
}

TEST(Reset, ADeviceThatNeverComesBackFailsWithThePortOnAgain) {
  Bed b;
  int rc;
  {
    PortPowerKernel kernel(b, false);
    // Long enough for the cycle to start on a loaded machine (a package build runs the tests
    // next to the compiler); the device not coming back is what uses it up.
    rc = b.run(cmd_reset, {"1-1.1", "--method", "port-power", "--timeout", "4s"});
    EXPECT_TRUE(kernel.cycled());
  }
  EXPECT_EQ(rc, kExitFailed);
  EXPECT_THAT(b.err.str(),
              HasSubstr("1-1.1: timed out after 4s while waiting for it to come back: 1-1.1 has not "
                        "been enumerated anew"));
  // Nothing left off: the port is powered and no intent remains for repair.
  EXPECT_EQ(port_disable(b), "0");
  EXPECT_FALSE(fs::exists(b.state + "/intents") && !fs::is_empty(b.state + "/intents"));
}

// Issue 14, end to end: the service's start goes straight to the method that cured the device
// last time; the device gets no reset first, and the cure is recorded again.
TEST(Handle, StartsAtTheMethodThatCuredTheDeviceLastTime) {
  Bed b("device,port-power", "0");
  const std::string node = b.bed->devnode(b.ups);
  const EpochMs cured_at = epoch_now() - 2 * 24 * 3600 * 1000;
  History h;
  h.attempts = {{cured_at - 60'000, Method::Device, false, "back but the probe failed: no answer"},
                {cured_at, Method::PortPower, true, "verified"}};
  h.services = {{epoch_now() - 60'000, "nut-driver@myups.service", true, "exit-code", "exited", "1"}};
  ASSERT_TRUE(StateStore(b.state).save(b.key(), h).ok());
  int rc;
  {
    PortPowerKernel kernel(b, true);
    rc = b.run(cmd_handle, {"--trigger", "service-start", "--match", "0665:5161"});
    EXPECT_TRUE(kernel.cycled());
  }
  ASSERT_EQ(rc, kExitOk) << b.err.str();
  EXPECT_THAT(b.err.str(),
              HasSubstr("start with port-power [the last run of nut-driver@myups.service failed"));
  EXPECT_THAT(b.err.str(),
              HasSubstr("; start at port-power: it cured this device at " + format_utc(cured_at)));
  EXPECT_THAT(b.err.str(), HasSubstr("recovered with port-power: verified"));
  EXPECT_TRUE(b.bed->usbfs().calls(node).empty()) << "no device reset before it";
  const History after = b.history();
  ASSERT_EQ(after.attempts.size(), 3u);
  EXPECT_EQ(after.attempts[2].method, Method::PortPower);
  EXPECT_TRUE(after.attempts[2].recovered);
  EXPECT_EQ(port_disable(b), "0");
}

// A method usable when the run decided may not be on the device as an earlier method left it:
// the run says it passed it over, and why, instead of trying it. Here the device reset fails and
// takes the interface's driver with it, so there is nothing left to rebind.
TEST(Handle, AMethodTheDeviceNoLongerAllowsIsPassedOverWithTheReason) {
  Bed b("device,rebind", "0");
  b.record_failed_service_run();
  const std::string node = b.bed->devnode(b.ups);
  // The interface's driver link and the DRIVER of its uevent go, as after an unbind (the
  // testbed's own paths: umockdev does not redirect unlink(2) and writes).
  const std::string intf = b.bed->root_dir() + Testbed::interface_path(b.ups, 0);
  const std::string uevent = intf + "/uevent";
  b.bed->usbfs().on_request(USBDEVFS_RESET, [&](testing::IoctlCall& c) -> testing::IoctlReply {
    if (c.devnode() != node) return {0, 0};
    std::ifstream in(uevent);
    std::string line, unbound;
    while (std::getline(in, line))
      if (!line.starts_with("DRIVER=")) unbound += line + "\n";
    std::ofstream(uevent, std::ios::trunc) << unbound;
    fs::remove(intf + "/driver");
    return {-1, EIO};
  });
  EXPECT_EQ(b.run(cmd_handle, {"--trigger", "service-start", "--match", "0665:5161"}), kExitFailed);
  EXPECT_THAT(b.err.str(), HasSubstr("start with device"));
  EXPECT_THAT(b.err.str(), HasSubstr("could not recover: tried device ("));
  EXPECT_THAT(b.err.str(),
              HasSubstr(", rebind (passed over: no kernel driver is bound to an interface of 1-1.1)"));
  const History h = b.history();
  ASSERT_EQ(h.attempts.size(), 1u) << "a method passed over is no attempt";
  EXPECT_EQ(h.attempts[0].method, Method::Device);
  EXPECT_FALSE(h.attempts[0].recovered);
}

TEST(Handle, FirstPutsBackWhatADeadRunLeftOff) {
  // A run powered the UPS's port off and was killed: its intent is on disk, unlocked. Without
  // the device there is no `add`; the next entry point to run (here the service's start) must
  // bring the port back.
  Bed b;
  const std::string disable = Testbed::port_dir(b.hub, 1) + "/disable";
  b.bed->set_attribute(b.hub + "/1-1:1.0/1-1-port1", "disable", "1");
  {
    auto intent = IntentJournal(b.state).record(write_action(disable, "0"), "1-1.1 0665:5161");
    ASSERT_TRUE(intent.ok()) << intent.error().message();
  }  // the "run" dies: its intent stays, unlocked
  b.run(cmd_handle, {"--trigger", "service-start", "--match", "0665:5161"});
  EXPECT_THAT(b.err.str(),
              HasSubstr("restored what an earlier run left off: 1-1.1 0665:5161: write " + disable + " 0"));
  std::ifstream in(disable);
  std::string v;
  in >> v;
  EXPECT_EQ(v, "0");
  EXPECT_TRUE(fs::is_empty(b.state + "/intents"));
}

std::string authorized(Bed& b) {
  std::ifstream in(b.bed->root_dir() + b.ups + "/authorized");
  std::string v;
  in >> v;
  return v;
}

void set_property(Bed& b, const std::string& key, const std::string& value) {
  umockdev_testbed_set_property(b.bed->native(), b.ups.c_str(), key.c_str(), value.c_str());
}

// Regression (security): a device whose authorized is 0 matched the table by its ids, failed its
// probe (it has no configuration), and the ladder reached `authorize`, which wrote 1: a device
// spoofing a table id got its drivers bound. Now it is not probed, not recovered and not reset,
// whatever the trigger.
TEST(Handle, NeverTouchesADeviceTheAuthorizationPolicyBlocked) {
  Bed b("device,rebind,authorize", "0");
  set_property(b, "USBRECOVER_PROBE", "open");
  b.bed->set_attribute(b.ups, "authorized", "0");
  b.record_failed_service_run();
  const std::string blocked =
      "'1-1.1' (0665:5161): leave it: 1-1.1 is not authorized (authorized = 0): blocked by the USB "
      "authorization policy (USBGuard, authorized_default or an administrator), which usbrecover does not "
      "override";
  EXPECT_EQ(b.run(cmd_handle, {"--trigger", "add", "--syspath", b.ups}), kExitOk);
  EXPECT_THAT(b.err.str(), HasSubstr(blocked));
  EXPECT_EQ(b.run(cmd_handle, {"--trigger", "service-start", "--match", "0665:5161"}), kExitOk);
  EXPECT_THAT(b.err.str(), HasSubstr(blocked));
  EXPECT_EQ(b.run(cmd_explain, {"0665:5161", "--probe"}), kExitOk) << b.err.str();
  EXPECT_THAT(b.out.str(), HasSubstr("probe: not-configured (not probed: not authorized)"));
  EXPECT_THAT(b.out.str(), HasSubstr("leave it: 1-1.1 is not authorized (authorized = 0)"));
  for (Method m : kAllMethods) {
    EXPECT_EQ(b.run(cmd_reset, {"1-1.1", "--method", std::string(to_string(m)), "--allow-collateral"}),
              kExitRefused)
        << to_string(m);
    EXPECT_THAT(b.err.str(), HasSubstr("blocked by the USB authorization policy")) << to_string(m);
  }
  EXPECT_TRUE(b.bed->usbfs().calls(b.bed->devnode(b.ups)).empty()) << "not even probed";
  EXPECT_EQ(authorized(b), "0");
  EXPECT_TRUE(b.history().attempts.empty());
}

// Only a deauthorization usbrecover recorded itself (the intent of a run that died in the middle
// of `authorize`) is undone.
TEST(Handle, UndoesOnlyTheDeauthorizationItRecordedItself) {
  Bed b("device", "0");
  b.bed->set_attribute(b.ups, "authorized", "0");
  {
    auto intent = IntentJournal(b.state).record(write_action(b.ups + "/authorized", "1"), "1-1.1 0665:5161");
    ASSERT_TRUE(intent.ok()) << intent.error().message();
  }  // the run dies
  EXPECT_EQ(b.run(cmd_handle, {"--trigger", "add", "--syspath", b.ups}), kExitOk);
  EXPECT_THAT(b.err.str(), HasSubstr("restored what an earlier run left off: 1-1.1 0665:5161: write " +
                                     b.ups + "/authorized 1"));
  EXPECT_EQ(authorized(b), "1");
  EXPECT_THAT(b.err.str(), HasSubstr("leave it: no probe is configured"));
}

// A device that comes back from a re-enumeration unauthorized (authorized_default=0 on its bus)
// is reported so: nothing is written to `authorized`, and no further method (here `authorize`,
// which would write it) is tried.
TEST(Handle, ADeviceThatComesBackUnauthorizedIsLeftSoAndNothingClimbsFurther) {
  Bed b("port-power,authorize", "0");
  b.record_failed_service_run();
  int rc;
  {
    PortPowerKernel kernel(b, true, "0");
    rc = b.run(cmd_handle, {"--trigger", "service-start", "--match", "0665:5161"});
    EXPECT_TRUE(kernel.cycled());
  }
  EXPECT_EQ(rc, kExitOk) << b.err.str();
  EXPECT_THAT(b.err.str(),
              HasSubstr("'1-1.1' (0665:5161): port-power: 1-1.1: came back, left unauthorized by "
                        "policy (authorized_default or a policy daemon); usbrecover does not "
                        "authorize it; no further method"));
  EXPECT_EQ(authorized(b), "0");
  auto h = b.history();
  ASSERT_EQ(h.attempts.size(), 1u);
  EXPECT_EQ(h.attempts[0].method, Method::PortPower);
  EXPECT_FALSE(h.attempts[0].recovered);
}

TEST(Reset, ADeviceThatComesBackUnauthorizedIsNotVerified) {
  Bed b;
  int rc;
  {
    PortPowerKernel kernel(b, true, "0");
    rc = b.run(cmd_reset, {"1-1.1", "--method", "port-power", "--timeout", "20s"});
  }
  EXPECT_EQ(rc, kExitFailed);
  EXPECT_THAT(b.err.str(), HasSubstr("1-1.1: came back, left unauthorized by policy"));
  EXPECT_EQ(authorized(b), "0");
}

// A policy daemon (USBGuard) that authorizes the device moments after it came back: verified.
TEST(Reset, ADeviceAPolicyDaemonAuthorizesMomentsLaterIsVerified) {
  Bed b;
  int rc;
  {
    PortPowerKernel kernel(b, true, "0", std::chrono::milliseconds(300));
    rc = b.run(cmd_reset, {"1-1.1", "--method", "port-power", "--timeout", "20s"});
  }
  EXPECT_EQ(rc, kExitOk) << b.err.str();
  EXPECT_EQ(authorized(b), "1");
}

// Regression: a service start that waited for another run's recovery decided on the snapshot it
// had taken before waiting (the old device number, its old node). It takes the snapshot and
// probes only once it holds the connector's lock.
TEST(Handle, ServiceStartDecidesOnTheDeviceAsItIsOnceItHoldsTheLock) {
  Bed b("device", "0");
  set_property(b, "USBRECOVER_PROBE", "open");
  const std::string old_node = b.bed->devnode(b.ups);
  auto held = StateStore(b.state).lock(port_key("1-1.1"), false);
  ASSERT_TRUE(held.ok()) << held.error().message();
  std::optional<DeviceLock> other_run(std::move(*held));
  int rc = -1;
  std::thread start([&] { rc = b.run(cmd_handle, {"--trigger", "service-start", "--match", "0665:5161"}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Meanwhile the other run re-enumerated the device: number 9, a new node that answers.
  const std::string new_node = "/dev/bus/usb/001/009";
  ASSERT_TRUE(b.bed->usbfs().attach(b.bed->native(), new_node).ok());
  b.bed->usbfs().on_control(new_node, {0x80, 0, std::nullopt, std::nullopt}, {{0, 0}, 0});
  b.bed->set_attribute(b.ups, "devnum", "9");
  set_property(b, "DEVNUM", "009");
  set_property(b, "DEVNAME", new_node);
  other_run.reset();
  start.join();
  EXPECT_EQ(rc, kExitOk) << b.err.str();
  EXPECT_THAT(b.err.str(), HasSubstr("leave it: the probe answered (GET_STATUS answered)"));
  EXPECT_TRUE(b.bed->usbfs().calls(old_node).empty()) << "the old node was probed";
  EXPECT_FALSE(b.bed->usbfs().calls(new_node).empty());
}

// Regression (one budget per physical device): the history was keyed by port, ids and serial, so
// a bridge that came back with a new serial each time got a fresh history, and a fresh budget,
// every time. It is the connector's now.
TEST(Handle, OneBudgetPerConnectorWhateverSerialTheDeviceComesBackWith) {
  Bed b("device", "0");
  ::setenv("SERVICE_RESULT", "exit-code", 1);
  b.bed->set_attribute(b.ups, "serial", "SN0");
  ASSERT_EQ(b.run(cmd_handle, {"--trigger", "service-stop", "--unit", "ups.service", "--match", "0665:5161"}),
            kExitOk);
  ASSERT_EQ(b.run(cmd_handle, {"--trigger", "service-start", "--match", "0665:5161"}), kExitOk)
      << b.err.str();
  EXPECT_THAT(b.err.str(), HasSubstr("recovered with device"));
  ASSERT_EQ(b.history().attempts.size(), 1u) << "recorded for the connector";

  // Two more recoveries in the window, as if made under other serials: the budget is spent.
  History h = b.history();
  h.attempts.push_back({epoch_now() - 1000, Method::Device, true, "verified"});
  h.attempts.push_back({epoch_now() - 500, Method::Device, true, "verified"});
  ASSERT_TRUE(StateStore(b.state).save(b.key(), h).ok());
  b.bed->set_attribute(b.ups, "serial", "SN1");
  ASSERT_EQ(b.run(cmd_handle, {"--trigger", "service-stop", "--unit", "ups.service", "--match", "0665:5161"}),
            kExitOk);
  EXPECT_EQ(b.run(cmd_handle, {"--trigger", "service-start", "--match", "0665:5161"}), kExitRefused);
  EXPECT_THAT(b.err.str(), HasSubstr("refuse: 3 recoveries in the last 1h (max_resets = 3)"));
  ::unsetenv("SERVICE_RESULT");
  EXPECT_EQ(b.history().attempts.size(), 3u);
}

TEST(Handle, FiftyConcurrentHelpersDoOneRecovery) {
  Bed b("authorize");
  b.record_failed_service_run();
  std::string state_env = "USBRECOVER_STATE_DIR=" + b.state;
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  env_strings.push_back(state_env);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  const char* argv[] = {USBRECOVER_BIN, "handle",    "--trigger", "service-start",
                        "--match",      "0665:5161", "--unit",    "nut-driver@myups.service",
                        nullptr};
  // Each helper's log goes to its own file: the recoveries are counted from what the helpers
  // did, not from the history file (whose last writer would win even without the lock).
  std::vector<pid_t> pids;
  for (int i = 0; i < 50; ++i) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    std::string log = b.state + "/helper-" + std::to_string(i) + ".log";
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = 0;
    ASSERT_EQ(
        posix_spawn(&pid, USBRECOVER_BIN, &actions, nullptr, const_cast<char* const*>(argv), envp.data()), 0);
    posix_spawn_file_actions_destroy(&actions);
    pids.push_back(pid);
  }
  int ok = 0;
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ++ok;
  }
  EXPECT_EQ(ok, 50);
  int recovered = 0, left = 0;
  for (int i = 0; i < 50; ++i) {
    std::ifstream in(b.state + "/helper-" + std::to_string(i) + ".log");
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("recovered with authorize") != std::string::npos) ++recovered;
      if (line.find("leave it") != std::string::npos) ++left;
    }
  }
  EXPECT_EQ(recovered, 1) << "exactly one helper recovered the device";
  EXPECT_EQ(left, 49) << "the others found it recovered and left it";
  auto h = b.history();
  ASSERT_EQ(h.attempts.size(), 1u);
  EXPECT_TRUE(h.attempts[0].recovered);
}

// Issue 15: what the VM bed has, a SuperSpeed stick on an xHCI SuperSpeed root port (2-4), and a
// USB 3.20 disk that fell back to its USB 2.0 connection (1-3, at 480 Mbit/s). No table entry:
// the built-in ladder, which has warm-reset right after device.
struct SuperSpeedBed {
  SuperSpeedBed() {
    auto pci = bed.add_pci_controller("0000:00:14.0", "xhci_hcd");
    usb1 = bed.add_root_hub(pci, 1, HubSpec{4, PowerSwitching::None, 20, false, true});
    usb2 = bed.add_root_hub(pci, 2, HubSpec{4, PowerSwitching::None, 20, true, true});
    for (unsigned n = 1; n <= 4; ++n) bed.link_peers(Testbed::port_dir(usb1, n), Testbed::port_dir(usb2, n));
    const std::vector<testing::InterfaceSpec> storage = {{0, 8, 6, 0x50, "usb-storage", {}}};
    stick = bed.add_device(
        usb2, 4, {0x46f4, 0x0001, "QEMU", "QEMU USB HARDDRIVE", "ss-stick", "5000", "3.00", 0, storage, {}});
    fallen =
        bed.add_device(usb1, 3, {0x0bc2, 0xab38, "Seagate", "Backup+", "NA8", "480", "3.20", 0, storage, {}});
    // The SuperSpeed root port takes SetPortFeature(BH_PORT_RESET) (anything else stalls) and then
    // answers GetPortStatus as qemu's xHCI does: connected, enabled, U0.
    bed.usbfs().on_control(bed.devnode(usb2), {0x23, 3, 28, 4}, {});
    bed.usbfs().on_control(bed.devnode(usb2), {0xa3, 0, std::nullopt, 4}, {{0x03, 0x02, 0x00, 0x00}, 0});
    char tmpl[] = "/tmp/usbrecover-warm.XXXXXX";
    state = ::mkdtemp(tmpl);
    udevd = std::make_unique<testing::FakeUdevd>(state + "/udev-control");
  }
  ~SuperSpeedBed() { fs::remove_all(state); }

  int run(int (*cmd)(const Args&, Context&), const Args& args) {
    out.str({});
    err.str({});
    Context ctx{out, err, "/sys", "/dev", state, "/dev/null", udevd->path(), "/dev/null", "/proc", ""};
    return cmd(args, ctx);
  }

  Testbed bed;
  std::string usb1, usb2, stick, fallen, state;
  std::unique_ptr<testing::FakeUdevd> udevd;
  std::ostringstream out, err;
};

TEST(Reset, WarmResetGoesThroughTheRootHubsNodeThenResetsTheDevice) {
  SuperSpeedBed b;
  ASSERT_EQ(b.run(cmd_reset, {"2-4", "--method", "warm-reset", "--json", "--timeout", "10s"}), kExitOk)
      << b.err.str();
  EXPECT_THAT(b.out.str(), HasSubstr("\"verified\": true"));
  auto hub = b.bed.usbfs().calls(b.bed.devnode(b.usb2));
  std::vector<testing::UsbfsCall> port_requests;
  for (const auto& c : hub) {
    if ((c.request_type & 0x1f) == 3) port_requests.push_back(c);  // recipient: a port
  }
  ASSERT_GE(port_requests.size(), 2u);
  EXPECT_EQ(port_requests[0].request_type, 0x23);
  EXPECT_EQ(port_requests[0].b_request, 3);  // SetPortFeature
  EXPECT_EQ(port_requests[0].value, 28);     // BH_PORT_RESET
  EXPECT_EQ(port_requests[0].index, 4);
  EXPECT_EQ(port_requests[1].request_type, 0xa3);  // GetPortStatus: is the port up again?
  auto dev = b.bed.usbfs().calls(b.bed.devnode(b.stick));
  ASSERT_FALSE(dev.empty());
  EXPECT_EQ(dev.back().request, static_cast<unsigned long>(USBDEVFS_RESET));
}

TEST(Explain, SaysWhyAWarmResetDoesNotApply) {
  SuperSpeedBed b;
  ASSERT_EQ(b.run(cmd_explain, {"1-3"}), kExitOk) << b.err.str();
  EXPECT_THAT(
      b.out.str(),
      HasSubstr("  skip warm-reset: 1-3 is a USB 3.20 device connected at 480 Mbit/s: it fell back to "
                "USB 2.0, and a warm reset (BH_PORT_RESET) exists only on SuperSpeed ports; port-power, "
                "which powers both halves of the connector off, may bring it back at SuperSpeed\n"));
  ASSERT_EQ(b.run(cmd_explain, {"2-4"}), kExitOk) << b.err.str();
  EXPECT_THAT(b.out.str(), HasSubstr("  try  warm-reset: disturbs no other device\n"));
  EXPECT_THAT(b.out.str(), HasSubstr("warm-reset /dev/bus/usb/002/001 4"));
}

}  // namespace
}  // namespace usbrecover
