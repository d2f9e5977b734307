// SPDX-License-Identifier: MIT
#pragma once

// A simulated megatec UPS behind a USB-to-serial bridge, served on the testbed's fake usbfs
// (tests/support's UsbfsFake, extended through on_request()). It answers what libusb does
// with a usbfs node — URBs (SUBMITURB, REAPURB[NDELAY], DISCARDURB), CLAIMINTERFACE /
// RELEASEINTERFACE, USBDEVFS_IOCTL(DISCONNECT / CONNECT) for the kernel driver, GETDRIVER,
// DISCONNECT_CLAIM, CONNECTINFO, GET_SPEED, GET_CAPABILITIES — and plays the device: standard
// requests (GET_STATUS, GET_DESCRIPTOR, GET_CONFIGURATION) from its descriptors, HID SET_REPORT
// collecting the command bytes, and the reply to "Q1\r" handed out through interrupt IN URBs.
//
// Control requests come either as USBDEVFS_CONTROL ioctls or as control URBs (libusb's way);
// both reach the same device model and are logged the same way. Failures injected with
// UsbfsFake::fail() still win over everything here.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "testbed.hpp"
#include "usbfs_fake.hpp"

namespace usbrecover::testing {

/// What the simulated device is and does.
struct UpsModel {
  std::vector<std::uint8_t> descriptors;      ///< device + configuration descriptors (descriptors_blob())
  std::vector<std::uint8_t> status = {0, 0};  ///< GET_STATUS answer
  std::uint16_t report_value = 0x200;         ///< SET_REPORT wValue the bridge understands; others stall
  std::string reply;                          ///< what the UPS answers to "Q1\r"
  std::size_t packet = 8;                     ///< at most this many bytes per interrupt IN completion
  bool hung = false;                          ///< takes commands, never answers (the wedged bridge)
  std::string driver = "usbhid";              ///< bound to interface 0 now: kernel driver, "usbfs", or ""
};

/// One thing the device saw, in order.
struct UpsEvent {
  enum class Kind { Control, Claim, Release, Disconnect, Connect, Submit, Reap, Discard };
  Kind kind = Kind::Control;
  // Control (from an ioctl or a control URB):
  std::uint8_t request_type = 0;
  std::uint8_t b_request = 0;
  std::uint16_t value = 0;
  std::uint16_t index = 0;
  std::uint16_t length = 0;
  std::vector<std::uint8_t> data;  ///< OUT data as sent
  bool via_urb = false;
  // Submit / Reap / Discard:
  std::uint8_t urb_type = 0;
  std::uint8_t endpoint = 0;
  int buffer_length = 0;
  int status = 0;  ///< Reap: the URB's status (0, -ENOENT after a discard, -EPIPE)
  // Claim / Release / Disconnect / Connect:
  unsigned interface = 0;
};

class SimulatedUps {
 public:
  /// Takes over the URB, interface and control requests of `usbfs` for every node.
  explicit SimulatedUps(UsbfsFake& usbfs);
  ~SimulatedUps();
  SimulatedUps(const SimulatedUps&) = delete;
  SimulatedUps& operator=(const SimulatedUps&) = delete;

  /// Serves `devnode` of `bed` as `model`; the node reads back the descriptors, as usbfs does.
  void add(Testbed& bed, const std::string& devnode, UpsModel model);

  std::vector<UpsEvent> events(const std::string& devnode) const;
  /// The driver bound to interface 0 now ("usbhid", "usbfs" while claimed, "").
  std::string driver(const std::string& devnode) const;
  /// URBs submitted and not yet reaped.
  std::size_t urbs_outstanding(const std::string& devnode) const;

 private:
  struct Urb;
  struct Node;
  struct Setup {
    std::uint8_t request_type;
    std::uint8_t b_request;
    std::uint16_t value;
    std::uint16_t index;
    std::uint16_t length;
  };

  Node* node(const std::string& devnode);
  int device_control(Node& n, const Setup& s, std::uint8_t* data, bool via_urb);
  void deliver(Node& n);
  IoctlReply control_ioctl(IoctlCall& call);
  IoctlReply submit(IoctlCall& call);
  IoctlReply reap(IoctlCall& call);
  IoctlReply discard(IoctlCall& call);
  IoctlReply interface_request(IoctlCall& call);
  IoctlReply driver_ioctl(IoctlCall& call);
  IoctlReply info(IoctlCall& call);

  mutable std::mutex mutex_;
  std::map<std::string, Node> nodes_;
};

/// The reply of a healthy UPS to Q1, as nutdrv_qx's megatec protocol expects it (47 bytes).
inline const std::string kQ1Reply = "(230.0 230.0 230.0 021 50.0 13.5 25.0 00001001\r";

}  // namespace usbrecover::testing
