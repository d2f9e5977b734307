// SPDX-License-Identifier: MIT
#include "act/effects_linux.hpp"

#include <fcntl.h>
#include <linux/usbdevice_fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <utility>

#include "util/path.hpp"

namespace usbrecover {

namespace {

// USB 2.0 spec 11.24.2: hub class requests to a port (bmRequestType: host-to-device, class,
// other), ClearFeature = 1, SetFeature = 3, and table 11-17: PORT_POWER = 8.
constexpr std::uint8_t kPortRequestType = 0x23;
constexpr std::uint8_t kClearFeature = 1;
constexpr std::uint8_t kSetFeature = 3;
constexpr std::uint16_t kPortPower = 8;
// A hub answers a port request in microseconds; this only bounds a hub that no longer answers.
constexpr unsigned kControlTimeoutMs = 5000;

Error outside(const std::string& path, const std::string& root) {
  return Error{.context = {}, .object = path, .reason = "not below '" + root + "', refusing", .errnum = 0};
}

// Opens a usbfs node. usbfs open never blocks, which matters under umockdev's preload.
Result<int> open_node(const std::string& devnode) {
  int fd = ::open(devnode.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return errno_error(devnode, "open failed");
  return fd;
}

}  // namespace

LinuxEffects::LinuxEffects(std::string sysfs_root, std::string dev_root, std::function<bool()> stop)
    : sysfs_root_(std::move(sysfs_root)), dev_root_(std::move(dev_root)), stop_(std::move(stop)) {}

namespace {

/// Whether a failed write to a driver's `bind` or `unbind` left things as asked anyway: bound to
/// this driver, or not bound to it. That happens within one rebind: a driver such as cdc_acm or
/// btusb claims its other interfaces through the first one and releases them with it, so the
/// second interface's own unbind and bind find the work done, and the kernel answers ENODEV,
/// EBUSY or EEXIST depending on the driver and the version. Judged by the interface's `driver`
/// link, never by the errno; the verifier then checks every interface has its driver back.
bool already_so(const std::string& path, std::string_view value) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return false;
  std::string file = path.substr(slash + 1);
  if (file != "bind" && file != "unbind") return false;
  // .../bus/BUS/drivers/DRIVER/bind -> .../bus/BUS/devices/NAME/driver
  auto drivers = path.rfind("/drivers/", slash);
  if (drivers == std::string::npos || value.empty() || value.find('/') != std::string_view::npos)
    return false;
  std::string link = path.substr(0, drivers) + "/devices/" + std::string(value) + "/driver";
  const std::string driver_dir = path.substr(0, slash);
  const std::string this_driver = driver_dir.substr(driver_dir.rfind('/') + 1);
  char target[4096];
  ssize_t len = ::readlink(link.c_str(), target, sizeof target - 1);
  const bool bound = len > 0;
  std::string bound_name;
  if (bound) {
    target[len] = '\0';
    bound_name = std::string(target).substr(std::string(target).rfind('/') + 1);
  }
  if (file == "bind") return bound && bound_name == this_driver;
  return !bound || bound_name != this_driver;  // unbind: done if this driver no longer has it
}

}  // namespace

Status LinuxEffects::write_sysfs(const std::string& path, std::string_view value) {
  if (!is_below(path, sysfs_root_)) return outside(path, sysfs_root_);
  std::string reason = "write " + std::string(value) + " failed";
  // No O_CREAT: an attribute that is not there means the kernel lacks the feature or the
  // device went away; creating a file would hide that (and under umockdev would "succeed").
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) {
    Error e = errno_error(path, reason);
    if (e.errnum != ENOENT && already_so(path, value)) return Ok{};
    return e;
  }
  // sysfs takes one write() as one store; a partial write would be a different value.
  ssize_t n = ::write(fd, value.data(), value.size());
  if (n < 0) {
    Error e = errno_error(path, reason);
    ::close(fd);
    if (already_so(path, value)) return Ok{};
    return e;
  }
  if (static_cast<std::size_t>(n) != value.size()) {
    ::close(fd);
    return Error{.context = {}, .object = path, .reason = reason + " (short write)", .errnum = 0};
  }
  if (::close(fd) != 0) return errno_error(path, reason);
  return Ok{};
}

Status LinuxEffects::reset_device(const std::string& devnode) {
  if (!is_below(devnode, dev_root_)) return outside(devnode, dev_root_);
  auto fd = open_node(devnode);
  if (!fd) return fd.error();
  Status st = Ok{};
  if (::ioctl(*fd, USBDEVFS_RESET, nullptr) < 0) st = errno_error(devnode, "USBDEVFS_RESET failed");
  ::close(*fd);
  return st;
}

Status LinuxEffects::set_port_power(const std::string& hub_devnode, unsigned port, bool on) {
  std::string reason = "port " + std::to_string(port) + " power " + (on ? "on" : "off") + " failed";
  if (!is_below(hub_devnode, dev_root_)) return outside(hub_devnode, dev_root_);
  if (port == 0 || port > 255) {
    return Error{.context = {}, .object = hub_devnode, .reason = reason + " (no such port)", .errnum = 0};
  }
  auto fd = open_node(hub_devnode);
  if (!fd) return fd.error();
  usbdevfs_ctrltransfer ctrl{};
  ctrl.bRequestType = kPortRequestType;
  ctrl.bRequest = on ? kSetFeature : kClearFeature;
  ctrl.wValue = kPortPower;
  ctrl.wIndex = static_cast<std::uint16_t>(port);
  ctrl.wLength = 0;
  ctrl.timeout = kControlTimeoutMs;
  ctrl.data = nullptr;
  Status st = Ok{};
  if (::ioctl(*fd, USBDEVFS_CONTROL, &ctrl) < 0) st = errno_error(hub_devnode, reason);
  ::close(*fd);
  return st;
}

void LinuxEffects::pause(std::chrono::milliseconds d) {
  timespec until{};
  clock_gettime(CLOCK_MONOTONIC, &until);
  auto ms = d.count() < 0 ? 0 : d.count();
  until.tv_sec += static_cast<time_t>(ms / 1000);
  until.tv_nsec += static_cast<long>((ms % 1000) * 1000000);
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec += 1;
    until.tv_nsec -= 1000000000L;
  }
  // clock_nanosleep returns the error number rather than setting errno. A signal makes it
  // return EINTR: stop if the caller says so, otherwise sleep on to the same absolute time.
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
    if (stop_ && stop_()) return;
  }
}

}  // namespace usbrecover
