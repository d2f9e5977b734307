// SPDX-License-Identifier: MIT
#pragma once

// After a method: is the *same* device back, healthy, and has udev finished with it? The answer
// comes from udev's own events (not the kernel's, so rules have run and the node has its group
// and mode), never from a fixed sleep. The Verifier listens from before the method runs, so no
// event is missed.

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "act/executor.hpp"
#include "error.hpp"
#include "snapshot/snapshot.hpp"

struct udev;
struct udev_monitor;

namespace usbrecover {

/// Why `now` is not (yet) `before` back and healthy, or nullopt when it is: same ids and serial,
/// authorized, a new device number when the method re-enumerates, and every interface that had a
/// kernel driver bound to one again (usbfs claims belong to programs and are not counted).
std::optional<std::string> not_back_yet(const UsbDevice& before, const UsbDevice& now, bool reenumerates);

/// Reads the device at a syspath as it is now (SnapshotReader::device in the command).
using DeviceReader = std::function<Result<UsbDevice>(const std::string& syspath)>;

/// A udev monitor for USB devices and interfaces, opened before a method runs.
class Verifier {
 public:
  /// Starts listening to udev's events (the "udev" source) of the usb subsystem.
  static Result<Verifier> listen();
  Verifier(Verifier&& other) noexcept;
  Verifier& operator=(Verifier&& other) noexcept;
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;
  ~Verifier();

  /// Waits until the device `before` is back (not_back_yet() says nothing), and, when
  /// `reenumerates`, udev has announced it under its new number. Rechecks on every event; fails
  /// with the last reason at `deadline` or when `stop` says so.
  Result<UsbDevice> wait(const UsbDevice& before, bool reenumerates,
                         std::chrono::steady_clock::time_point deadline, const DeviceReader& read,
                         const StopCheck& stop = {});

 private:
  Verifier(udev* u, udev_monitor* m) : udev_(u), monitor_(m) {}
  udev* udev_ = nullptr;
  udev_monitor* monitor_ = nullptr;
};

}  // namespace usbrecover
