// SPDX-License-Identifier: MIT
#pragma once

// The real Effects: sysfs writes and usbfs ioctls. Every path it is handed must lie below the
// roots it was built with (is_below, util/path.hpp), so a wrong path from a bad snapshot or a tampered intent
// file cannot make it write elsewhere.

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "act/effects.hpp"

namespace usbrecover {

/// Effects on the running system (or on a umockdev testbed, which looks the same).
class LinuxEffects final : public Effects {
 public:
  /// `sysfs_root` ("/sys") and `dev_root` ("/dev") bound every path; `stop` is polled when a
  /// pause is interrupted by a signal and ends the pause early when it returns true.
  LinuxEffects(std::string sysfs_root, std::string dev_root, std::function<bool()> stop = {});
  ~LinuxEffects() override;
  LinuxEffects(const LinuxEffects&) = delete;
  LinuxEffects& operator=(const LinuxEffects&) = delete;

  Status write_sysfs(const std::string& path, std::string_view value) override;
  Status reset_device(const std::string& devnode) override;
  Status set_port_power(const std::string& hub_devnode, unsigned port, bool on) override;
  Status warm_reset_port(const std::string& hub_devnode, unsigned port) override;
  /// Opens the node read-only and keeps it open until destruction: usbfs takes a runtime PM
  /// reference on the device at open and drops it at close, also when the process dies.
  Status hold_resumed(const std::string& devnode) override;
  void pause(std::chrono::milliseconds d) override;

 private:
  std::string sysfs_root_;
  std::string dev_root_;
  std::function<bool()> stop_;
  std::vector<std::pair<std::string, int>> held_;  ///< hold_resumed(): node, open descriptor
};

}  // namespace usbrecover
