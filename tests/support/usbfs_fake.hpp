// SPDX-License-Identifier: MIT
#pragma once

// The fake usbfs for umockdev testbeds, used by every suite that fakes usbfs: answers the ioctls
// the helper makes on /dev/bus/usb nodes, records every one of them (node, request, setup packet,
// data, timeout, answer), and injects failures (EPIPE, ENODEV, EACCES, ETIMEDOUT, ...) per node
// and request.
//
// Built in: USBDEVFS_CONTROL (answered from rules set with on_control(); a request no rule
// matches stalls with EPIPE, as a real device does) and USBDEVFS_RESET (succeeds). Any other
// request fails with ENOTTY unless a handler is added with on_request(): that is how RESET with
// re-enumeration, SetPortFeature side effects or URB submit/reap are added.
//
// umockdev runs the handler on its own thread; every public method is thread-safe.

#include <umockdev.h>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "error.hpp"

namespace usbrecover::testing {

/// One ioctl the code under test made on a usbfs node, and how it was answered.
struct UsbfsCall {
  std::string devnode;        ///< "/dev/bus/usb/001/002"
  unsigned long request = 0;  ///< USBDEVFS_CONTROL, USBDEVFS_RESET, ...
  // The setup packet, for USBDEVFS_CONTROL only.
  std::uint8_t request_type = 0;   ///< bmRequestType
  std::uint8_t b_request = 0;      ///< bRequest
  std::uint16_t value = 0;         ///< wValue
  std::uint16_t index = 0;         ///< wIndex
  std::uint16_t length = 0;        ///< wLength
  std::uint32_t timeout = 0;       ///< the request's timeout in ms
  std::vector<std::uint8_t> data;  ///< OUT: what was sent; IN: what was answered
  long result = 0;                 ///< the ioctl's return value
  int error = 0;                   ///< its errno, 0 on success
};

/// Which control requests a rule applies to; an unset field matches anything.
struct ControlMatch {
  std::optional<std::uint8_t> request_type;
  std::optional<std::uint8_t> b_request;
  std::optional<std::uint16_t> value;
  std::optional<std::uint16_t> index;
};

/// How to answer a matched control request: IN data (cut to wLength), or an errno.
struct ControlReply {
  std::vector<std::uint8_t> data;
  int error = 0;
};

/// What an on_request() handler answers: the ioctl's return value and errno.
struct IoctlReply {
  long result = 0;
  int error = 0;
};

/// One intercepted ioctl as an on_request() handler sees it: its node, request, and access to
/// the caller's memory. Memory fetched with arg()/pointee() is written back to the caller when
/// the ioctl completes.
class IoctlCall {
 public:
  IoctlCall(UMockdevIoctlClient* client, UsbfsCall& record);
  ~IoctlCall();
  IoctlCall(const IoctlCall&) = delete;
  IoctlCall& operator=(const IoctlCall&) = delete;

  const std::string& devnode() const { return record_.devnode; }
  unsigned long request() const { return record_.request; }
  /// The argument as an integer, for ioctls that pass a value instead of a pointer.
  unsigned long raw_arg() const;
  /// The `size`-byte structure the argument points to, or nullptr when it cannot be read.
  std::uint8_t* arg(std::size_t size);
  /// The `len` bytes that the pointer at `offset` inside arg() points to, or nullptr.
  std::uint8_t* pointee(std::size_t offset, std::size_t len);
  /// The record being written for this call; handlers may fill in details.
  UsbfsCall& record() { return record_; }
  /// umockdev's objects, for what the helpers above do not cover (URB reaping needs
  /// umockdev_ioctl_data_set_ptr()).
  UMockdevIoctlClient* client() const { return client_; }
  UMockdevIoctlData* arg_data() const { return arg_; }

 private:
  UMockdevIoctlClient* client_;
  UsbfsCall& record_;
  UMockdevIoctlData* arg_ = nullptr;
  std::vector<UMockdevIoctlData*> owned_;
};

class UsbfsFake {
 public:
  static constexpr unsigned long kAnyRequest = 0;
  using Handler = std::function<IoctlReply(IoctlCall&)>;

  UsbfsFake();
  ~UsbfsFake();
  UsbfsFake(const UsbfsFake&) = delete;
  UsbfsFake& operator=(const UsbfsFake&) = delete;

  /// Serves `devnode` ("/dev/bus/usb/001/002") in `testbed`, creating the node file if needed.
  Status attach(UMockdevTestbed* testbed, const std::string& devnode);

  /// Answers control requests on `devnode` that match `match`; the latest matching rule wins.
  void on_control(const std::string& devnode, ControlMatch match, ControlReply reply);
  /// Fails `request` on `devnode` with `error`, the next `times` times (negative: always).
  /// Checked before any rule or handler; an empty devnode means every node, kAnyRequest every
  /// request.
  void fail(const std::string& devnode, unsigned long request, int error, int times = -1);
  /// Removes every injected failure.
  void clear_failures();
  /// Handles `request` on every node with `handler` (replacing a built-in one). The handler
  /// runs on umockdev's thread without the handler's lock held, so it may call back into this
  /// object (e.g. to record or to change rules).
  void on_request(unsigned long request, Handler handler);

  /// How many descriptors of this process have `devnode` (an attached node) open right now: the
  /// commands under test run in the test's process.
  int open_now(const std::string& devnode) const;

  /// Every call so far, in order.
  std::vector<UsbfsCall> calls() const;
  /// The calls on one node.
  std::vector<UsbfsCall> calls(const std::string& devnode) const;
  void clear_calls();

 private:
  struct Failure {
    std::string devnode;
    unsigned long request;
    int error;
    int times;
  };
  struct ControlRule {
    std::string devnode;
    ControlMatch match;
    ControlReply reply;
  };
  static int dispatch(UMockdevIoctlBase* base, UMockdevIoctlClient* client, void* self);
  void handle(UMockdevIoctlClient* client);
  IoctlReply control(IoctlCall& call);
  std::optional<int> take_failure(const std::string& devnode, unsigned long request);

  UMockdevIoctlBase* base_;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> files_;  ///< devnode -> the testbed's file for it
  std::vector<UsbfsCall> calls_;
  std::vector<Failure> failures_;
  std::vector<ControlRule> rules_;
  std::map<unsigned long, Handler> handlers_;
};

}  // namespace usbrecover::testing
