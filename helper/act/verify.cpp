// SPDX-License-Identifier: MIT
#include "act/verify.hpp"

#include <libudev.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "policy.hpp"

namespace usbrecover {

namespace {

Error verify_error(std::string object, std::string reason, int errnum = 0) {
  return Error{.context = {}, .object = std::move(object), .reason = std::move(reason), .errnum = errnum};
}

}  // namespace

std::optional<std::string> not_back_yet(const UsbDevice& before, const UsbDevice& now, bool reenumerates) {
  if (now.vendor != before.vendor || now.product != before.product) {
    return "a different device (" + hex4(now.vendor) + ":" + hex4(now.product) + ") is on " +
           before.port_path;
  }
  if (now.serial != before.serial)
    return "a device with another serial ('" + now.serial + "') is on " + before.port_path;
  if (!now.authorized) return before.sysname + " is not authorized";
  if (reenumerates && now.devnum == before.devnum) return before.sysname + " has not been enumerated anew";
  for (const Interface& was : before.interfaces) {
    if (was.driver.empty() || was.driver == "usbfs") continue;
    const Interface* is = nullptr;
    for (const Interface& i : now.interfaces) {
      if (i.sysname == was.sysname) is = &i;
    }
    if (is == nullptr) return "interface " + was.sysname + " is missing";
    if (is->driver != was.driver) {
      return "interface " + was.sysname + " has " +
             (is->driver.empty() ? "no driver" : "driver " + is->driver) + " (was " + was.driver + ")";
    }
  }
  return std::nullopt;
}

bool back_unauthorized(const UsbDevice& before, const UsbDevice& now, bool reenumerates) {
  return !now.authorized && now.vendor == before.vendor && now.product == before.product &&
         now.serial == before.serial && (!reenumerates || now.devnum != before.devnum);
}

bool udevd_running(const std::string& control) {
  sockaddr_un addr{};
  if (control.empty() || control.size() >= sizeof addr.sun_path) return false;
  addr.sun_family = AF_UNIX;
  control.copy(addr.sun_path, control.size());
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

Result<Verifier> Verifier::listen(EventSource source) {
  udev* u = udev_new();
  if (u == nullptr) return verify_error("udev", "cannot create a udev context", errno);
  udev_monitor* m = udev_monitor_new_from_netlink(u, source == EventSource::Udev ? "udev" : "kernel");
  if (m == nullptr) {
    udev_unref(u);
    return verify_error("udev", "cannot open a udev monitor", errno);
  }
  Verifier v(u, m, source);
  if (int r = udev_monitor_filter_add_match_subsystem_devtype(m, "usb", nullptr); r < 0) {
    return verify_error("udev", "cannot filter the udev monitor", -r);
  }
  if (int r = udev_monitor_enable_receiving(m); r < 0)
    return verify_error("udev", "cannot listen to udev", -r);
  return v;
}

Verifier::Verifier(Verifier&& other) noexcept
    : udev_(std::exchange(other.udev_, nullptr)),
      monitor_(std::exchange(other.monitor_, nullptr)),
      source_(other.source_) {}

Verifier& Verifier::operator=(Verifier&& other) noexcept {
  if (this != &other) {
    std::swap(udev_, other.udev_);
    std::swap(monitor_, other.monitor_);
    std::swap(source_, other.source_);
  }
  return *this;
}

Verifier::~Verifier() {
  if (monitor_ != nullptr) udev_monitor_unref(monitor_);
  if (udev_ != nullptr) udev_unref(udev_);
}

Result<UsbDevice> Verifier::wait(const UsbDevice& before, bool reenumerates,
                                 std::chrono::steady_clock::time_point deadline, const DeviceReader& read,
                                 const StopCheck& stop) {
  using Clock = std::chrono::steady_clock;
  // A re-enumerated device is ready only once udev has processed its "add"; that event's
  // arrival on this monitor is the proof, since udev forwards events only after its rules ran.
  // (From the kernel's source the "add" only says the device exists; without udevd that is all
  // there is to wait for.)
  bool announced = !reenumerates;
  std::string why = "no udev event yet";
  // When a device that is back but unauthorized counts as left so; max(): not in that state.
  Clock::time_point unauthorized_until = Clock::time_point::max();
  const int fd = udev_monitor_get_fd(monitor_);
  for (;;) {
    auto now = read(before.syspath);
    auto wake = deadline;
    if (now) {
      auto reason = not_back_yet(before, *now, reenumerates);
      if (!reason && announced) return *now;
      if (announced && back_unauthorized(before, *now, reenumerates)) {
        // Back, but authorized_default (or a policy daemon that has not decided yet) keeps it
        // unconfigured. Give a daemon its moment, then report it as it is.
        if (unauthorized_until == Clock::time_point::max())
          unauthorized_until = std::min(deadline, Clock::now() + kPolicyGrace);
        if (Clock::now() >= unauthorized_until) return *now;
        wake = unauthorized_until;
      } else {
        unauthorized_until = Clock::time_point::max();
      }
      why = reason ? *reason : "udev has not announced " + before.sysname + " yet";
    } else {
      why = before.sysname + " is not there";
    }
    if (stop) {
      if (auto s = stop())
        return verify_error(before.sysname, *s + " while waiting for it to come back: " + why);
    }
    auto left = std::chrono::duration_cast<Millis>(wake - Clock::now());
    if (left.count() <= 0) {
      if (wake != deadline) continue;  // the grace ended: look once more, then report
      // The deadline passed since stop() was asked: it says so in its own words.
      if (auto s = stop ? stop() : std::nullopt)
        return verify_error(before.sysname, *s + " while waiting for it to come back: " + why);
      return verify_error(before.sysname, "did not come back in time: " + why);
    }
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<Millis::rep>(left.count(), 60000)));
    if (r < 0 && errno != EINTR) return verify_error("udev", "poll failed", errno);
    if (r > 0 && drain(before.syspath, before.devnum)) announced = true;
  }
}

bool Verifier::drain(const std::string& syspath, std::optional<unsigned> old_devnum) {
  bool seen = false;
  const int fd = udev_monitor_get_fd(monitor_);
  for (;;) {
    udev_device* ev = udev_monitor_receive_device(monitor_);
    if (ev == nullptr) break;
    const char* path = udev_device_get_syspath(ev);
    const char* action = udev_device_get_action(ev);
    const char* devnum = udev_device_get_sysattr_value(ev, "devnum");
    const char* prop_devnum = udev_device_get_property_value(ev, "DEVNUM");
    if (path != nullptr && action != nullptr && syspath == path &&
        (std::strcmp(action, "add") == 0 || std::strcmp(action, "bind") == 0)) {
      const char* n = prop_devnum != nullptr ? prop_devnum : devnum;
      if (!old_devnum || (n != nullptr && std::strtoul(n, nullptr, 10) != *old_devnum)) seen = true;
    }
    udev_device_unref(ev);
    pollfd again{fd, POLLIN, 0};
    if (::poll(&again, 1, 0) <= 0) break;
  }
  return seen;
}

Result<UsbDevice> Verifier::wait_enumerated(const std::string& syspath, const std::vector<UsbId>& ids,
                                            std::chrono::steady_clock::time_point deadline,
                                            const DeviceReader& read, const StopCheck& stop) {
  using Clock = std::chrono::steady_clock;
  const std::string name = syspath.substr(syspath.rfind('/') + 1);
  bool announced = false;
  std::string why = "nothing enumerated on " + name + " yet";
  Clock::time_point unauthorized_until = Clock::time_point::max();
  const int fd = udev_monitor_get_fd(monitor_);
  for (;;) {
    auto wake = deadline;
    if (auto now = read(syspath)) {
      const bool wanted = ids.empty() || std::any_of(ids.begin(), ids.end(), [&](const UsbId& id) {
                            return id.vendor == now->vendor && (!id.product || *id.product == now->product);
                          });
      if (!wanted) {
        why = "a device with other ids (" + hex4(now->vendor) + ":" + hex4(now->product) +
              ") enumerated on " + name;
      } else if (!announced) {
        why = "udev has not announced " + name + " yet";
      } else if (now->authorized) {
        return *now;
      } else {
        if (unauthorized_until == Clock::time_point::max())
          unauthorized_until = std::min(deadline, Clock::now() + kPolicyGrace);
        if (Clock::now() >= unauthorized_until) return *now;
        wake = unauthorized_until;
        why = name + " is not authorized";
      }
    }
    if (stop) {
      if (auto s = stop()) return verify_error(name, *s + " while waiting for a device to enumerate: " + why);
    }
    auto left = std::chrono::duration_cast<Millis>(wake - Clock::now());
    if (left.count() <= 0) {
      if (wake != deadline) continue;
      return verify_error(name, "no device enumerated in time: " + why);
    }
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<Millis::rep>(left.count(), 60000)));
    if (r < 0 && errno != EINTR) return verify_error("udev", "poll failed", errno);
    if (r > 0 && drain(syspath, std::nullopt)) announced = true;
  }
}

}  // namespace usbrecover
