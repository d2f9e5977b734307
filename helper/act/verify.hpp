// SPDX-License-Identifier: MIT
#pragma once

// After a method: is the *same* device back, healthy, and has udev finished with it? The answer
// comes from udev's own events (not the kernel's, so rules have run and the node has its group
// and mode), never from a fixed sleep. The Verifier listens from before the method runs, so no
// event is missed. Where udevd does not run (an initramfs, a container, an mdev system) nobody
// would ever send udev's events: the Verifier then listens to the kernel's uevents instead.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

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

/// True when `now` is `before` back (same ids and serial, enumerated anew when the method
/// re-enumerates) but not authorized: the bus's authorized_default (or a policy daemon) keeps it
/// from being configured. Nobody writes `authorized` for it; see Verifier::wait.
bool back_unauthorized(const UsbDevice& before, const UsbDevice& now, bool reenumerates);

/// How long a device that came back unauthorized is given for a policy daemon (USBGuard) to
/// authorize it before it counts as left unauthorized: such a daemon answers a new device's
/// uevent in milliseconds.
inline constexpr std::chrono::milliseconds kPolicyGrace{5000};

/// Whether udevd runs: something accepts connections on its control socket `control`
/// ("/run/udev/control"). Under systemd the socket unit holds it even while udevd is stopped,
/// and starts udevd on demand, which is as good.
bool udevd_running(const std::string& control);

/// Whose events a Verifier waits for.
enum class EventSource {
  Udev,    ///< udevd's, sent once its rules have run (the normal case)
  Kernel,  ///< the kernel's own uevents, where udevd does not run
};

/// Reads the device at a syspath as it is now (SnapshotReader::device in the command).
using DeviceReader = std::function<Result<UsbDevice>(const std::string& syspath)>;

/// A udev monitor for USB devices and interfaces, opened before a method runs.
class Verifier {
 public:
  /// Starts listening to the usb subsystem's events from `source`.
  static Result<Verifier> listen(EventSource source = EventSource::Udev);
  Verifier(Verifier&& other) noexcept;
  Verifier& operator=(Verifier&& other) noexcept;
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;
  ~Verifier();

  /// Waits until the device `before` is back (not_back_yet() says nothing), and, when
  /// `reenumerates`, its new number has been announced. Rechecks on every event; fails with the
  /// last reason at `deadline` or when `stop` says so. A device that is back but stays
  /// unauthorized for kPolicyGrace (back_unauthorized()) is returned as it is, authorized false:
  /// the caller reports it and writes nothing to `authorized`.
  Result<UsbDevice> wait(const UsbDevice& before, bool reenumerates,
                         std::chrono::steady_clock::time_point deadline, const DeviceReader& read,
                         const StopCheck& stop = {});

  /// After a recovery of a port on which nothing had enumerated: waits until a device is at
  /// `syspath`, its arrival announced, with one of `ids` when any are given. A device that stays
  /// unauthorized for kPolicyGrace is returned as it is (authorized false), as by wait().
  Result<UsbDevice> wait_enumerated(const std::string& syspath, const std::vector<UsbId>& ids,
                                    std::chrono::steady_clock::time_point deadline, const DeviceReader& read,
                                    const StopCheck& stop = {});

  [[nodiscard]] EventSource source() const { return source_; }

 private:
  /// Receives every queued event; true when one is an "add" or "bind" of `syspath` (with a device
  /// number other than `old_devnum`, when given).
  bool drain(const std::string& syspath, std::optional<unsigned> old_devnum);
  Verifier(udev* u, udev_monitor* m, EventSource s) : udev_(u), monitor_(m), source_(s) {}
  udev* udev_ = nullptr;
  udev_monitor* monitor_ = nullptr;
  EventSource source_ = EventSource::Udev;
};

}  // namespace usbrecover
