// SPDX-License-Identifier: MIT
#pragma once

// A umockdev ioctl handler for usbfs nodes that records USBDEVFS_RESET and USBDEVFS_CONTROL
// (with the control request's fields) and can fail them with a chosen errno. Other requests
// are answered ENOTTY so a test notices an ioctl it did not expect.

#include <umockdev.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace usbrecover::test {

/// One ioctl as the handler saw it.
struct UsbfsCall {
  std::string devnode;
  unsigned long request = 0;
  // USBDEVFS_CONTROL only:
  std::uint8_t request_type = 0;
  std::uint8_t request_code = 0;
  std::uint16_t value = 0;
  std::uint16_t index = 0;
  std::uint16_t length = 0;
  std::uint32_t timeout = 0;
};

class UsbfsRecorder {
 public:
  UsbfsRecorder();
  ~UsbfsRecorder();
  UsbfsRecorder(const UsbfsRecorder&) = delete;
  UsbfsRecorder& operator=(const UsbfsRecorder&) = delete;

  /// Answers ioctls on `devnode` (which the testbed must know, e.g. a device's DEVNAME).
  void attach(UMockdevTestbed* testbed, const std::string& devnode);
  /// The next `count` RESET/CONTROL requests fail with `errnum`; a negative count: all of them.
  void fail_with(int errnum, int count = -1);
  [[nodiscard]] std::vector<UsbfsCall> calls() const;

 private:
  static gboolean on_ioctl(UMockdevIoctlBase* base, UMockdevIoctlClient* client, gpointer self);

  UMockdevIoctlBase* base_;
  mutable std::mutex mu_;  // umockdev answers ioctls on its own thread
  std::vector<UsbfsCall> calls_;
  int errnum_ = 0;
  int fail_count_ = 0;
};

}  // namespace usbrecover::test
