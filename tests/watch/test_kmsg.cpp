// SPDX-License-Identifier: MIT
// /dev/kmsg records and the USB failures the watcher recognises in them, from real kernel lines
// (Linux 6.1 and newer phrasing), garbage, overlong and escaped records, continuation lines, and
// records a process wrote (which must never count).
#include <gtest/gtest.h>

#include <string>

#include "watch/kmsg.hpp"

namespace usbrecover {
namespace {

TEST(Kmsg, ParsesHeaderMessageAndContinuationLines) {
  auto r = parse_kmsg_record(
      "3,1234,5678901,-,caller=T42;usb 1-1.2: device descriptor read/64, error -71\n"
      " SUBSYSTEM=usb\n DEVICE=+usb:1-1.2\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->facility, 0u);
  EXPECT_EQ(r->level, 3u);
  EXPECT_EQ(r->seq, 1234u);
  EXPECT_EQ(r->usec, 5678901u);
  EXPECT_EQ(r->message, "usb 1-1.2: device descriptor read/64, error -71");
  ASSERT_EQ(r->dict.size(), 2u);
  EXPECT_EQ(r->dict[1].first, "DEVICE");
  EXPECT_EQ(r->dict[1].second, "+usb:1-1.2");
  // The kernel's escapes stay as written.
  EXPECT_EQ(parse_kmsg_record("6,1,2,-;usb 1-1: Product: \\x1b[2J")->message, "usb 1-1: Product: \\x1b[2J");
}

TEST(Kmsg, RejectsWhatIsNotARecord) {
  for (const char* bad : {"", "garbage", "3,1;no usec", "x,1,2,-;msg", "3,1,2;no flags",
                          "99999,1,2,-;pri too big", "-3,1,2,-;negative", "3,1,2,-;ok\nnot a continuation",
                          "3,1,2,-;ok\n =no key", "3,18446744073709551616,2,-;seq overflows"}) {
    EXPECT_FALSE(parse_kmsg_record(bad)) << bad;
  }
  EXPECT_FALSE(parse_kmsg_record("6,1,2,-;" + std::string(kMaxKmsgRecord, 'x')));
}

TEST(Kmsg, SplitsAFileIntoRecordsAtLinesThatDoNotStartWithASpace) {
  const std::string text = "6,1,10,-;first\n SUBSYSTEM=usb\n\n4,2,20,-;second\n3,3,30,-;third";
  auto records = split_kmsg_records(text);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0], "6,1,10,-;first\n SUBSYSTEM=usb\n\n");
  EXPECT_EQ(records[2], "3,3,30,-;third");
  EXPECT_TRUE(split_kmsg_records("").empty());
}

TEST(Kmsg, PortPathsOfKernelNames) {
  EXPECT_EQ(port_path_of_kernel_name("1-1.2"), "1-1.2");
  EXPECT_EQ(port_path_of_kernel_name("1-1-port2"), "1-1.2");
  EXPECT_EQ(port_path_of_kernel_name("usb1-port2"), "1-2");
  EXPECT_EQ(port_path_of_kernel_name("3-1.4.2-port11"), "3-1.4.2.11");
  for (const char* bad : {"usb1", "1-", "-1", "1-1-port", "1-1-port0", "usbx-port1", "1-1-portX", "a-1",
                          "1-1..2", "1-1.2.3.4.5.6.7.8"}) {
    EXPECT_EQ(port_path_of_kernel_name(bad), std::nullopt) << bad;
  }
}

struct Case {
  const char* message;
  KernelEvent::Kind kind;
  const char* where;  // port path or controller
  bool gave_up;
};

TEST(Kmsg, RecognisesTheKernelsUsbFailureMessages) {
  const Case cases[] = {
      {"usb 1-1.2: device descriptor read/64, error -71", KernelEvent::Kind::EnumerationFailed, "1-1.2",
       false},
      {"usb 1-1.2: device descriptor read/8, error -110", KernelEvent::Kind::EnumerationFailed, "1-1.2",
       false},
      {"usb 3-1: device descriptor read/all, error -71", KernelEvent::Kind::EnumerationFailed, "3-1", false},
      {"usb 1-1.2: device not accepting address 6, error -71", KernelEvent::Kind::EnumerationFailed, "1-1.2",
       false},
      {"usb 2-3: Device not responding to setup address.", KernelEvent::Kind::EnumerationFailed, "2-3",
       false},
      {"usb 1-4: can't read configurations, error -71", KernelEvent::Kind::EnumerationFailed, "1-4", false},
      {"usb 1-4: unable to read config index 0 descriptor/start: -71", KernelEvent::Kind::EnumerationFailed,
       "1-4", false},
      {"usb 1-1-port2: Cannot enable. Maybe the USB cable is bad?", KernelEvent::Kind::EnumerationFailed,
       "1-1.2", false},
      {"usb 1-1-port2: unable to enumerate USB device", KernelEvent::Kind::EnumerationFailed, "1-1.2", true},
      {"usb usb1-port2: unable to enumerate USB device", KernelEvent::Kind::EnumerationFailed, "1-2", true},
      {"usb usb1-port2: over-current condition", KernelEvent::Kind::OverCurrent, "1-2", false},
      {"usb 1-1-port4: over-current change #3", KernelEvent::Kind::OverCurrent, "1-1.4", false},
      {"xhci_hcd 0000:00:14.0: xHCI host controller not responding, assume dead",
       KernelEvent::Kind::ControllerDied, "0000:00:14.0", false},
      {"xhci_hcd 0000:00:14.0: HC died; cleaning up", KernelEvent::Kind::ControllerDied, "0000:00:14.0",
       false},
      {"ehci-pci 0000:00:1d.0: HC died; cleaning up", KernelEvent::Kind::ControllerDied, "0000:00:1d.0",
       false},
  };
  for (const Case& c : cases) {
    auto e = recognise_kernel_message(c.message);
    ASSERT_TRUE(e) << c.message;
    EXPECT_EQ(e->kind, c.kind) << c.message;
    EXPECT_EQ(c.kind == KernelEvent::Kind::ControllerDied ? e->controller : e->port, c.where) << c.message;
    EXPECT_EQ(e->gave_up, c.gave_up) << c.message;
    EXPECT_EQ(e->message, c.message);
  }
}

TEST(Kmsg, IgnoresEverythingElse) {
  for (const char* other :
       {"usb 1-1.2: new full-speed USB device number 5 using xhci_hcd",
        "usb 1-1.2: USB disconnect, device number 4", "usb 1-1-port2: attempt power cycle",
        "usb usb1-port2: disabled by hub (EMI?), re-enabling...", "hub 1-0:1.0: 4 ports detected",
        "usb 1-1.2; device descriptor read/64, error -71", "usb 1-1.x: device descriptor read/64, error -71",
        "usb 1-1 2: device descriptor read/64, error -71", "random text", ""}) {
    EXPECT_FALSE(recognise_kernel_message(other)) << other;
  }
}

// Any local root process can write to /dev/kmsg; such records get facility 1 or more, and a
// forged "unable to enumerate" must not make the watcher power-cycle a port.
TEST(Kmsg, OnlyTheKernelsOwnRecordsCount) {
  auto forged = parse_kmsg_record("11,99,100,-;usb 1-1-port2: unable to enumerate USB device");
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->facility, 1u);
  EXPECT_FALSE(recognise_kernel_record(*forged));
  auto real = parse_kmsg_record("3,99,100,-;usb 1-1-port2: unable to enumerate USB device");
  ASSERT_TRUE(real);
  EXPECT_TRUE(recognise_kernel_record(*real));
}

}  // namespace
}  // namespace usbrecover
