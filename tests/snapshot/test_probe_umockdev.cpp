// SPDX-License-Identifier: MIT
// The probes against simulated devices under umockdev: open, descriptor and control through
// usbfs ioctls, megatec-q1 through libusb with URBs answered by a simulated UPS.
#include <gtest/gtest.h>
#include <linux/usbdevice_fs.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "snapshot/probe.hpp"
#include "testbed.hpp"
#include "ups_sim.hpp"

namespace usbrecover::testing {
namespace {

using State = ProbeResult::State;
using Kind = UpsEvent::Kind;
using namespace std::chrono_literals;

const InterfaceSpec kBridgeInterface{0, 3, 0, 0, "usbhid", {{0x81, 3, 8, 10}}};
const DeviceSpec kCypress{0x0665, 0x5161, "INNO TECH", "USB to Serial",    "",
                          "1.5",  "1.00", 0,           {kBridgeInterface}, {}};
const DeviceSpec kIppon{
    0x06da, 0x0003, "Phoenixtec", "USB to Serial", "", "1.5", "1.10", 0, {kBridgeInterface}, {}};

/// Records what a probe journals, with how many device events had happened at that moment.
class RecordingJournal final : public DetachJournal {
 public:
  explicit RecordingJournal(const SimulatedUps*& ups, const std::string*& node) : ups_(ups), node_(node) {}
  Status detaching(const UsbDevice& device, const std::string& interface,
                   const std::string& driver) override {
    entries.push_back("detaching " + device.sysname + " " + interface + " " + driver + " after " +
                      std::to_string(ups_->events(*node_).size()) + " events");
    return fail_with ? Status(*fail_with) : Status(Ok{});
  }
  void attached() override {
    entries.push_back("attached after " + std::to_string(ups_->events(*node_).size()) + " events");
  }
  std::vector<std::string> entries;
  std::optional<Error> fail_with;

 private:
  const SimulatedUps*& ups_;
  const std::string*& node_;
};

class ProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bed_ = std::make_unique<Testbed>();
    ups_ = std::make_unique<SimulatedUps>(bed_->usbfs());
    const std::string xhci = bed_->add_pci_controller("0000:00:14.0", "xhci_hcd");
    const std::string root = bed_->add_root_hub(xhci, 1, HubSpec{});
    cypress_ = bed_->add_device(root, 1, kCypress);
    ippon_ = bed_->add_device(root, 2, kIppon);
    cypress_node_ = bed_->devnode(cypress_);
    ippon_node_ = bed_->devnode(ippon_);
  }

  // The snapshot's view of the device at `path`, as the snapshot reader fills it in.
  UsbDevice device_from(const std::string& path, const DeviceSpec& spec) const {
    UsbDevice d;
    d.syspath = path;
    d.sysname = path.substr(path.rfind('/') + 1);
    d.devnode = bed_->devnode(path);
    d.vendor = spec.vendor;
    d.product = spec.product;
    for (const auto& i : spec.interfaces) {
      d.interfaces.push_back({d.sysname + ":1." + std::to_string(i.number),
                              i.number,
                              i.cls,
                              i.subclass,
                              i.protocol,
                              i.driver,
                              i.endpoints,
                              {}});
    }
    return d;
  }

  UpsModel cypress_model() const {
    UpsModel m;
    m.descriptors = descriptors_blob(kCypress);
    m.reply = kQ1Reply;
    return m;
  }
  UpsModel ippon_model() const {
    UpsModel m;
    m.descriptors = descriptors_blob(kIppon);
    m.report_value = 0x2;
    // The bridge always hands back its whole 64-byte report: the line, then leftovers.
    m.reply = "(215.0 215.0 220.0 010 49.9 27.4 30.0 00001000\r";
    m.reply.resize(64, '\0');
    m.packet = 64;
    return m;
  }

  ProbeResult probe(Probe kind, const UsbDevice& d, std::chrono::milliseconds timeout = 2000ms) {
    journal_ups_ = ups_.get();
    journal_node_ = &d.devnode;
    return run_probe(kind, d, ProbeOptions{timeout, &journal_});
  }

  const SimulatedUps* journal_ups_ = nullptr;
  const std::string* journal_node_ = nullptr;
  RecordingJournal journal_{journal_ups_, journal_node_};

  std::vector<UpsEvent> events_of(const std::string& node, Kind kind) const {
    std::vector<UpsEvent> out;
    for (const auto& e : ups_->events(node)) {
      if (e.kind == kind) out.push_back(e);
    }
    return out;
  }

  std::vector<UpsEvent> set_reports(const std::string& node) const {
    std::vector<UpsEvent> out;
    for (const auto& e : events_of(node, Kind::Control)) {
      if (e.request_type == 0x21 && e.b_request == 0x09) out.push_back(e);
    }
    return out;
  }

  // Index of the first event of `kind` on `node`, or -1.
  long first(const std::string& node, Kind kind) const {
    const auto ev = ups_->events(node);
    const auto it = std::find_if(ev.begin(), ev.end(), [kind](const UpsEvent& e) { return e.kind == kind; });
    return it == ev.end() ? -1 : it - ev.begin();
  }
  long last(const std::string& node, Kind kind) const {
    const auto ev = ups_->events(node);
    const auto it =
        std::find_if(ev.rbegin(), ev.rend(), [kind](const UpsEvent& e) { return e.kind == kind; });
    return it == ev.rend() ? -1 : static_cast<long>(ev.rend() - it) - 1;
  }

  // Nothing left claimed or detached, no URB left in flight.
  void expect_put_back(const std::string& node) const {
    EXPECT_EQ(ups_->driver(node), "usbhid");
    EXPECT_EQ(ups_->urbs_outstanding(node), 0u);
    if (first(node, Kind::Claim) >= 0) {
      EXPECT_GT(last(node, Kind::Release), last(node, Kind::Claim));
    }
    if (first(node, Kind::Disconnect) >= 0) {
      EXPECT_GT(last(node, Kind::Connect), last(node, Kind::Release));
    }
  }

  std::unique_ptr<Testbed> bed_;
  std::unique_ptr<SimulatedUps> ups_;
  std::string cypress_, ippon_;  // syspaths
  std::string cypress_node_, ippon_node_;
};

TEST_F(ProbeTest, NoneIsNotConfiguredAndTouchesNothing) {
  ups_->add(*bed_, cypress_node_, cypress_model());
  EXPECT_EQ(probe(Probe::None, device_from(cypress_, kCypress)).state, State::NotConfigured);
  EXPECT_TRUE(bed_->usbfs().calls().empty());
}

TEST_F(ProbeTest, OpenSendsGetStatus) {
  ups_->add(*bed_, cypress_node_, cypress_model());
  const ProbeResult r = probe(Probe::Open, device_from(cypress_, kCypress));
  EXPECT_EQ(r.state, State::Healthy);
  EXPECT_EQ(r.detail, "GET_STATUS answered");
  const auto calls = bed_->usbfs().calls(cypress_node_);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].request, USBDEVFS_CONTROL);
  EXPECT_EQ(calls[0].request_type, 0x80);
  EXPECT_EQ(calls[0].b_request, 0);
  EXPECT_EQ(calls[0].value, 0);
  EXPECT_EQ(calls[0].index, 0);
  EXPECT_EQ(calls[0].length, 2);
}

TEST_F(ProbeTest, OpenReportsAShortStatus) {
  UpsModel m = cypress_model();
  m.status = {0};
  ups_->add(*bed_, cypress_node_, m);
  const ProbeResult r = probe(Probe::Open, device_from(cypress_, kCypress));
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, "GET_STATUS returned 1 bytes, expected 2");
}

TEST_F(ProbeTest, OpenOfAMissingNodeFails) {
  UsbDevice d = device_from(cypress_, kCypress);
  d.devnode = "/dev/bus/usb/001/009";
  const ProbeResult r = probe(Probe::Open, d);
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, "open /dev/bus/usb/001/009 failed: No such file or directory");
  d.devnode.clear();
  EXPECT_EQ(probe(Probe::Open, d).detail, "no device node for '1-1'");
}

struct InjectedError {
  int error;
  const char* text;
};
class ProbeErrorTest : public ProbeTest, public ::testing::WithParamInterface<InjectedError> {};

TEST_P(ProbeErrorTest, OpenReportsTheControlError) {
  ups_->add(*bed_, cypress_node_, cypress_model());
  bed_->usbfs().fail(cypress_node_, USBDEVFS_CONTROL, GetParam().error);
  const ProbeResult r = probe(Probe::Open, device_from(cypress_, kCypress));
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, std::string("GET_STATUS failed: ") + GetParam().text);
}

TEST_P(ProbeErrorTest, DescriptorReportsTheControlError) {
  ups_->add(*bed_, cypress_node_, cypress_model());
  bed_->usbfs().fail(cypress_node_, USBDEVFS_CONTROL, GetParam().error);
  const ProbeResult r = probe(Probe::Descriptor, device_from(cypress_, kCypress));
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, std::string("GET_DESCRIPTOR(DEVICE) failed: ") + GetParam().text);
}

TEST_P(ProbeErrorTest, MegatecReportsAFailedSetReportAndPutsTheDriverBack) {
  ups_->add(*bed_, cypress_node_, cypress_model());
  // libusb sends control requests as URBs: fail their submission.
  bed_->usbfs().fail(cypress_node_, USBDEVFS_SUBMITURB, GetParam().error);
  const ProbeResult r = probe(Probe::MegatecQ1, device_from(cypress_, kCypress));
  EXPECT_EQ(r.state, State::Failed);
  // libusb folds submission errors into fewer codes than errno has.
  const std::string text = GetParam().error == ENODEV ? "No such device" : "Input/output error";
  EXPECT_EQ(r.detail, "Q1 SET_REPORT failed: " + text);
  expect_put_back(cypress_node_);
}

TEST_P(ProbeErrorTest, ControlReportsTheControlError) {
  ups_->add(*bed_, cypress_node_, cypress_model());
  bed_->usbfs().fail(cypress_node_, USBDEVFS_CONTROL, GetParam().error);
  const ProbeResult r = probe(Probe::Control, device_from(cypress_, kCypress));
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, std::string("GET_STATUS failed: ") + GetParam().text);
  EXPECT_EQ(ups_->driver(cypress_node_), "usbhid");
}

INSTANTIATE_TEST_SUITE_P(Errors, ProbeErrorTest,
                         ::testing::Values(InjectedError{EPIPE, "Broken pipe"},
                                           InjectedError{ENODEV, "No such device"},
                                           InjectedError{ETIMEDOUT, "Connection timed out"},
                                           InjectedError{EACCES, "Permission denied"}));

TEST_F(ProbeTest, DescriptorReadsTheDeviceDescriptor) {
  ups_->add(*bed_, cypress_node_, cypress_model());
  const ProbeResult r = probe(Probe::Descriptor, device_from(cypress_, kCypress));
  EXPECT_EQ(r.state, State::Healthy);
  EXPECT_EQ(r.detail, "device descriptor read (0665:5161)");
  const auto calls = bed_->usbfs().calls(cypress_node_);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].request_type, 0x80);
  EXPECT_EQ(calls[0].b_request, 6);
  EXPECT_EQ(calls[0].value, 0x0100);
  EXPECT_EQ(calls[0].length, 18);
}

TEST_F(ProbeTest, DescriptorWithOtherIdsFails) {
  UpsModel m = cypress_model();
  DeviceSpec other = kCypress;
  other.vendor = 0x1234;
  other.product = 0xabcd;
  m.descriptors = descriptors_blob(other);
  ups_->add(*bed_, cypress_node_, m);
  const ProbeResult r = probe(Probe::Descriptor, device_from(cypress_, kCypress));
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, "device descriptor says 1234:abcd, expected 0665:5161");
}

TEST_F(ProbeTest, DescriptorShortOrOfTheWrongTypeFails) {
  UpsModel m = cypress_model();
  m.descriptors.resize(12);
  ups_->add(*bed_, cypress_node_, m);
  EXPECT_EQ(probe(Probe::Descriptor, device_from(cypress_, kCypress)).detail,
            "GET_DESCRIPTOR(DEVICE) returned 12 bytes, expected 18");

  UpsModel wrong_type = cypress_model();
  wrong_type.descriptors[1] = 2;
  ups_->add(*bed_, cypress_node_, wrong_type);
  EXPECT_EQ(probe(Probe::Descriptor, device_from(cypress_, kCypress)).detail,
            "device descriptor has type 0x02, expected 0x01");
}

TEST_F(ProbeTest, MegatecCypressHappyPath) {
  ups_->add(*bed_, cypress_node_, cypress_model());
  const ProbeResult r = probe(Probe::MegatecQ1, device_from(cypress_, kCypress));
  EXPECT_EQ(r.state, State::Healthy) << r.detail;
  EXPECT_EQ(r.detail, "Q1 answered 47 bytes: '(230.0 230.0 230...'");

  const auto reports = set_reports(cypress_node_);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].value, 0x200);
  EXPECT_EQ(reports[0].index, 0);
  EXPECT_EQ(reports[0].length, 8);
  EXPECT_EQ(reports[0].data, (std::vector<std::uint8_t>{'Q', '1', '\r', 0, 0, 0, 0, 0}));
  EXPECT_TRUE(reports[0].via_urb);

  // The reply comes 8 bytes at a time from 0x81: 47 bytes are six reads.
  std::vector<UpsEvent> reads;
  for (const auto& e : events_of(cypress_node_, Kind::Submit)) {
    if (e.urb_type == USBDEVFS_URB_TYPE_INTERRUPT) reads.push_back(e);
  }
  ASSERT_EQ(reads.size(), 6u);
  for (const auto& e : reads) {
    EXPECT_EQ(e.endpoint, 0x81);
    EXPECT_EQ(e.buffer_length, 8);
  }

  // usbhid off, interface claimed, the query, then released and usbhid back, in that order.
  EXPECT_LT(first(cypress_node_, Kind::Disconnect), first(cypress_node_, Kind::Claim));
  EXPECT_LT(first(cypress_node_, Kind::Claim), first(cypress_node_, Kind::Submit));
  EXPECT_GT(first(cypress_node_, Kind::Release), last(cypress_node_, Kind::Reap));
  expect_put_back(cypress_node_);
  EXPECT_TRUE(events_of(cypress_node_, Kind::Discard).empty());
}

TEST_F(ProbeTest, MegatecIpponHappyPath) {
  ups_->add(*bed_, ippon_node_, ippon_model());
  const ProbeResult r = probe(Probe::MegatecQ1, device_from(ippon_, kIppon));
  EXPECT_EQ(r.state, State::Healthy) << r.detail;
  EXPECT_EQ(r.detail, "Q1 answered 47 bytes: '(215.0 215.0 220...'");

  const auto reports = set_reports(ippon_node_);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].value, 0x2);
  EXPECT_EQ(reports[0].data, (std::vector<std::uint8_t>{'Q', '1', '\r', 0, 0, 0, 0, 0}));

  // One read of 64 bytes, never more (seed 004: the bridge hangs when asked for more).
  std::vector<UpsEvent> reads;
  for (const auto& e : events_of(ippon_node_, Kind::Submit)) {
    if (e.urb_type == USBDEVFS_URB_TYPE_INTERRUPT) reads.push_back(e);
  }
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].endpoint, 0x81);
  EXPECT_EQ(reads[0].buffer_length, 64);
  expect_put_back(ippon_node_);
}

TEST_F(ProbeTest, MegatecHungUpsFailsWithinTheTimeoutAndPutsTheDriverBack) {
  UpsModel m = cypress_model();
  m.hung = true;
  ups_->add(*bed_, cypress_node_, m);
  const auto start = std::chrono::steady_clock::now();
  const ProbeResult r = probe(Probe::MegatecQ1, device_from(cypress_, kCypress), 300ms);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, "Q1 got no reply within 300ms");
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, 1500ms);

  // The read that never completed was discarded and reaped, then everything put back.
  ASSERT_EQ(events_of(cypress_node_, Kind::Discard).size(), 1u);
  const auto reaps = events_of(cypress_node_, Kind::Reap);
  ASSERT_FALSE(reaps.empty());
  EXPECT_EQ(reaps.back().status, -ENOENT);
  EXPECT_EQ(events_of(cypress_node_, Kind::Release).size(), 1u);
  EXPECT_EQ(events_of(cypress_node_, Kind::Connect).size(), 1u);
  expect_put_back(cypress_node_);
}

TEST_F(ProbeTest, MegatecGarbageReplyFails) {
  UpsModel m = cypress_model();
  m.reply = "\x1b[2J#garbage\r";
  ups_->add(*bed_, cypress_node_, m);
  const ProbeResult r = probe(Probe::MegatecQ1, device_from(cypress_, kCypress));
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, "Q1 reply '\\x1b[2J#garbage\\r' does not start with '('");
  expect_put_back(cypress_node_);
}

TEST_F(ProbeTest, MegatecReplyThatStopsHalfwayFails) {
  UpsModel m = cypress_model();
  m.reply = "(230.0 230.0";
  ups_->add(*bed_, cypress_node_, m);
  const ProbeResult r = probe(Probe::MegatecQ1, device_from(cypress_, kCypress), 300ms);
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, "Q1 reply '(230.0 230.0' does not end with \\r");
  expect_put_back(cypress_node_);
}

TEST_F(ProbeTest, MegatecEndlessReplyStopsAtSixtyFourBytes) {
  UpsModel m = cypress_model();
  m.reply = std::string(200, '(');
  ups_->add(*bed_, cypress_node_, m);
  const ProbeResult r = probe(Probe::MegatecQ1, device_from(cypress_, kCypress));
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, "Q1 reply '((((((((((((((((...' does not end with \\r");
  std::size_t reads = 0;
  for (const auto& e : events_of(cypress_node_, Kind::Submit))
    reads += e.urb_type == USBDEVFS_URB_TYPE_INTERRUPT;
  EXPECT_EQ(reads, 8u);
  expect_put_back(cypress_node_);
}

TEST_F(ProbeTest, MegatecBridgeThatStallsTheReportFails) {
  UpsModel m = cypress_model();
  m.report_value = 0x300;  // understands another report id only
  ups_->add(*bed_, cypress_node_, m);
  const ProbeResult r = probe(Probe::MegatecQ1, device_from(cypress_, kCypress));
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, "Q1 SET_REPORT failed: Broken pipe");
  expect_put_back(cypress_node_);
}

TEST_F(ProbeTest, MegatecUsesTheSnapshotsInterruptInEndpoint) {
  ups_->add(*bed_, cypress_node_, cypress_model());
  UsbDevice d = device_from(cypress_, kCypress);
  d.interfaces[0].endpoints = {{0x02, 3, 8, 10}, {0x83, 2, 64, 0}, {0x84, 3, 8, 10}};
  EXPECT_EQ(probe(Probe::MegatecQ1, d).state, State::Healthy);
  for (const auto& e : events_of(cypress_node_, Kind::Submit)) {
    if (e.urb_type == USBDEVFS_URB_TYPE_INTERRUPT) {
      EXPECT_EQ(e.endpoint, 0x84);
    }
  }
}

TEST_F(ProbeTest, MegatecLeavesAnInterfaceHeldByUsbfsAlone) {
  UpsModel m = cypress_model();
  m.driver = "usbfs";
  ups_->add(*bed_, cypress_node_, m);
  UsbDevice d = device_from(cypress_, kCypress);
  d.interfaces[0].driver = "usbfs";
  const ProbeResult r = probe(Probe::MegatecQ1, d);
  EXPECT_EQ(r.state, State::Healthy);
  EXPECT_EQ(r.detail, "interface held by another program; not probed");
  EXPECT_TRUE(bed_->usbfs().calls(cypress_node_).empty());
}

TEST_F(ProbeTest, MegatecInterfaceClaimedSinceTheSnapshotIsNotProbed) {
  UpsModel m = cypress_model();
  m.driver = "usbfs";  // NUT's driver claimed it after the snapshot was read
  ups_->add(*bed_, cypress_node_, m);
  const ProbeResult r = probe(Probe::MegatecQ1, device_from(cypress_, kCypress));
  EXPECT_EQ(r.state, State::Healthy);
  EXPECT_EQ(r.detail, "interface held by another program; not probed");
  EXPECT_TRUE(set_reports(cypress_node_).empty());
  EXPECT_TRUE(events_of(cypress_node_, Kind::Disconnect).empty());
  EXPECT_TRUE(events_of(cypress_node_, Kind::Submit).empty());
  EXPECT_EQ(ups_->driver(cypress_node_), "usbfs");
}

TEST_F(ProbeTest, MegatecDetachFailureStopsBeforeClaiming) {
  ups_->add(*bed_, cypress_node_, cypress_model());
  bed_->usbfs().fail(cypress_node_, USBDEVFS_IOCTL, ENODEV, 1);
  const ProbeResult r = probe(Probe::MegatecQ1, device_from(cypress_, kCypress));
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, "detaching the kernel driver from interface 0 failed: No such device");
  EXPECT_TRUE(events_of(cypress_node_, Kind::Claim).empty());
  EXPECT_EQ(ups_->driver(cypress_node_), "usbhid");
}

TEST_F(ProbeTest, MegatecClaimFailureReattachesTheDriver) {
  ups_->add(*bed_, cypress_node_, cypress_model());
  // libusb keeps ENOENT, EBUSY and ENODEV apart and calls everything else "Other error".
  bed_->usbfs().fail(cypress_node_, USBDEVFS_CLAIMINTERFACE, EACCES, 1);
  const ProbeResult r = probe(Probe::MegatecQ1, device_from(cypress_, kCypress));
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, "claiming interface 0 failed: Other error");
  EXPECT_EQ(events_of(cypress_node_, Kind::Connect).size(), 1u);
  EXPECT_EQ(ups_->driver(cypress_node_), "usbhid");
}

TEST_F(ProbeTest, MegatecWithoutAKernelDriverDetachesNothing) {
  UpsModel m = cypress_model();
  m.driver = "";
  ups_->add(*bed_, cypress_node_, m);
  UsbDevice d = device_from(cypress_, kCypress);
  d.interfaces[0].driver = "";
  EXPECT_EQ(probe(Probe::MegatecQ1, d).state, State::Healthy);
  EXPECT_TRUE(events_of(cypress_node_, Kind::Disconnect).empty());
  EXPECT_TRUE(events_of(cypress_node_, Kind::Connect).empty());
  EXPECT_EQ(events_of(cypress_node_, Kind::Release).size(), 1u);
  EXPECT_EQ(ups_->driver(cypress_node_), "");
}

// Regression (a SIGKILL mid-probe left usbhid detached): the detach is journaled before it
// happens, and the journal hears once the driver is back; a journal that cannot record stops the
// probe before it detaches anything.
TEST_F(ProbeTest, MegatecJournalsTheDetachBeforeItAndClearsItOnceReattached) {
  ups_->add(*bed_, cypress_node_, cypress_model());
  const ProbeResult r = probe(Probe::MegatecQ1, device_from(cypress_, kCypress));
  EXPECT_EQ(r.state, State::Healthy) << r.detail;
  const long disconnect = first(cypress_node_, Kind::Disconnect);
  const long connect = last(cypress_node_, Kind::Connect);
  ASSERT_GE(disconnect, 0);
  ASSERT_GT(connect, disconnect);
  ASSERT_EQ(journal_.entries.size(), 2u);
  EXPECT_EQ(journal_.entries[0],
            "detaching 1-1 1-1:1.0 usbhid after " + std::to_string(disconnect) + " events");
  EXPECT_EQ(journal_.entries[1], "attached after " + std::to_string(connect + 1) + " events");
  expect_put_back(cypress_node_);
}

TEST_F(ProbeTest, MegatecDoesNotDetachWhatItCannotJournal) {
  ups_->add(*bed_, cypress_node_, cypress_model());
  journal_.fail_with = Error{"", "/run/usbrecover/intents", "cannot create intent", ENOSPC};
  ProbeResult r = probe(Probe::MegatecQ1, device_from(cypress_, kCypress));
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail,
            "not probed: journaling the detach of usbhid failed: /run/usbrecover/intents: cannot create "
            "intent: No space left on device");
  // Without a journal at all, the same.
  r = run_probe(Probe::MegatecQ1, device_from(cypress_, kCypress));
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, "not probed: interface 0 has a kernel driver, and detaching it could not be journaled");
  EXPECT_TRUE(events_of(cypress_node_, Kind::Disconnect).empty());
  EXPECT_TRUE(events_of(cypress_node_, Kind::Claim).empty());
  EXPECT_EQ(ups_->driver(cypress_node_), "usbhid");
}

// Regression (flagship cold plug under load): udev's `add` ran before usbhid bound, so the
// snapshot shows interface 0 without a driver while the kernel has one by the time of the probe:
// the driver is read from sysfs then, journaled and detached, not refused.
TEST_F(ProbeTest, MegatecJournalsADriverThatBoundAfterTheSnapshot) {
  ups_->add(*bed_, cypress_node_, cypress_model());
  UsbDevice d = device_from(cypress_, kCypress);
  d.interfaces[0].driver = "";
  const ProbeResult r = probe(Probe::MegatecQ1, d);
  EXPECT_EQ(r.state, State::Healthy) << r.detail;
  ASSERT_EQ(journal_.entries.size(), 2u);
  EXPECT_EQ(journal_.entries[0].rfind("detaching 1-1 1-1:1.0 usbhid after ", 0), 0u) << journal_.entries[0];
  expect_put_back(cypress_node_);
}

TEST_F(ProbeTest, MegatecOpenFailureIsReported) {
  UsbDevice d = device_from(cypress_, kCypress);
  d.devnode = "/dev/bus/usb/001/042";
  const ProbeResult r = probe(Probe::MegatecQ1, d);
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, "open /dev/bus/usb/001/042 failed: No such file or directory");
}

// A HID UPS as NUT's usbhid-ups drives it (APC Back-UPS): one HID interface, usbhid bound until
// NUT's driver claims it.
const DeviceSpec kHidUps{0x051d,
                         0x0002,
                         "American Power Conversion",
                         "Back-UPS ES 700",
                         "4B1234",
                         "12",
                         "1.10",
                         0,
                         {{0, 3, 0, 0, "usbhid", {{0x81, 3, 8, 10}}}},
                         {}};

class ControlProbeTest : public ProbeTest {
 protected:
  void SetUp() override {
    ProbeTest::SetUp();
    hid_ = bed_->add_device(
        bed_->add_root_hub(bed_->add_pci_controller("0000:00:1d.0", "ehci-pci"), 2, HubSpec{}), 1, kHidUps);
    hid_node_ = bed_->devnode(hid_);
  }
  UpsModel hid_model() const {
    UpsModel m;
    m.descriptors = descriptors_blob(kHidUps);
    return m;
  }
  // Every call the probe made was a control request, and nothing was claimed, detached or sent
  // to an endpoint: the driver holding the interface never noticed.
  void expect_only_control_requests() const {
    const auto calls = bed_->usbfs().calls(hid_node_);
    ASSERT_FALSE(calls.empty());
    for (const auto& c : calls) {
      EXPECT_EQ(c.request, USBDEVFS_CONTROL);
      EXPECT_EQ(c.request_type, 0x80);  // standard, device-to-host, to the device
    }
    EXPECT_TRUE(events_of(hid_node_, Kind::Claim).empty());
    EXPECT_TRUE(events_of(hid_node_, Kind::Disconnect).empty());
    EXPECT_TRUE(events_of(hid_node_, Kind::Submit).empty());
  }
  std::string hid_, hid_node_;
};

TEST_F(ControlProbeTest, AsksStatusAndBothDescriptorsAndLeavesUsbhidBound) {
  ups_->add(*bed_, hid_node_, hid_model());
  const ProbeResult r = probe(Probe::Control, device_from(hid_, kHidUps));
  EXPECT_EQ(r.state, State::Healthy) << r.detail;
  EXPECT_EQ(r.detail, "status, device and configuration descriptors answered (051d:0002)");
  const auto calls = bed_->usbfs().calls(hid_node_);
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[0].b_request, 0);  // GET_STATUS
  EXPECT_EQ(calls[0].length, 2);
  EXPECT_EQ(calls[1].b_request, 6);  // GET_DESCRIPTOR(DEVICE)
  EXPECT_EQ(calls[1].value, 0x0100);
  EXPECT_EQ(calls[1].length, 18);
  EXPECT_EQ(calls[2].value, 0x0200);  // GET_DESCRIPTOR(CONFIGURATION): the header,
  EXPECT_EQ(calls[2].length, 9);
  const auto blob = descriptors_blob(kHidUps);
  EXPECT_EQ(calls[3].value, 0x0200);  // then all of it
  EXPECT_EQ(calls[3].length, blob.size() - 18);
  expect_only_control_requests();
  EXPECT_EQ(ups_->driver(hid_node_), "usbhid");
}

TEST_F(ControlProbeTest, ProbesWhileNutsDriverHoldsTheInterface) {
  UpsModel m = hid_model();
  m.driver = "usbfs";  // usbhid-ups detached usbhid and claimed interface 0
  ups_->add(*bed_, hid_node_, m);
  UsbDevice d = device_from(hid_, kHidUps);
  d.interfaces[0].driver = "usbfs";
  const ProbeResult r = probe(Probe::Control, d);
  EXPECT_EQ(r.state, State::Healthy) << r.detail;
  expect_only_control_requests();
  EXPECT_EQ(ups_->driver(hid_node_), "usbfs");
  EXPECT_TRUE(events_of(hid_node_, Kind::Release).empty());
}

TEST_F(ControlProbeTest, ADescriptorOfAnotherDeviceFails) {
  UpsModel m = hid_model();
  DeviceSpec bootloader = kHidUps;
  bootloader.vendor = 0x03eb;
  bootloader.product = 0x2ff4;
  m.descriptors = descriptors_blob(bootloader);
  ups_->add(*bed_, hid_node_, m);
  const ProbeResult r = probe(Probe::Control, device_from(hid_, kHidUps));
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, "device descriptor says 03eb:2ff4, expected 051d:0002");
}

TEST_F(ControlProbeTest, AConfigurationThatIsCutShortFails) {
  UpsModel m = hid_model();
  m.descriptors.resize(m.descriptors.size() - 4);  // the header still says the full length
  ups_->add(*bed_, hid_node_, m);
  const auto total = descriptors_blob(kHidUps).size() - 18;
  const ProbeResult r = probe(Probe::Control, device_from(hid_, kHidUps));
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, "GET_DESCRIPTOR(CONFIGURATION) returned " + std::to_string(total - 4) + " of " +
                          std::to_string(total) + " bytes");
}

TEST_F(ControlProbeTest, GarbageInTheConfigurationFails) {
  UpsModel m = hid_model();
  m.descriptors[18 + 9] = 0;  // the interface descriptor's bLength
  ups_->add(*bed_, hid_node_, m);
  EXPECT_EQ(probe(Probe::Control, device_from(hid_, kHidUps)).detail,
            "configuration descriptor is malformed at byte 9");

  UpsModel wrong_type = hid_model();
  wrong_type.descriptors[18 + 1] = 4;
  ups_->add(*bed_, hid_node_, wrong_type);
  EXPECT_EQ(probe(Probe::Control, device_from(hid_, kHidUps)).detail,
            "configuration descriptor has type 0x04, expected 0x02");

  UpsModel huge = hid_model();
  huge.descriptors[18 + 2] = 0xff;
  huge.descriptors[18 + 3] = 0xff;
  ups_->add(*bed_, hid_node_, huge);
  EXPECT_EQ(probe(Probe::Control, device_from(hid_, kHidUps)).detail,
            "configuration descriptor says it is 65535 bytes long (9 to 4096 expected)");
}

TEST_F(ControlProbeTest, AConfigurationWithOtherInterfacesFails) {
  ups_->add(*bed_, hid_node_, hid_model());
  UsbDevice d = device_from(hid_, kHidUps);
  d.interfaces.push_back({d.sysname + ":1.1", 1, 3, 0, 0, "usbhid", {}, {}});
  const ProbeResult r = probe(Probe::Control, d);
  EXPECT_EQ(r.state, State::Failed);
  EXPECT_EQ(r.detail, "configuration descriptor names 1 interfaces, the device has 2");
}

TEST_F(ControlProbeTest, AShortStatusFailsBeforeAnyDescriptor) {
  UpsModel m = hid_model();
  m.status = {0};
  ups_->add(*bed_, hid_node_, m);
  EXPECT_EQ(probe(Probe::Control, device_from(hid_, kHidUps)).detail,
            "GET_STATUS returned 1 bytes, expected 2");
  EXPECT_EQ(bed_->usbfs().calls(hid_node_).size(), 1u);
}

}  // namespace
}  // namespace usbrecover::testing
