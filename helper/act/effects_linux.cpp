// SPDX-License-Identifier: MIT
#include "act/effects_linux.hpp"

#include <fcntl.h>
#include <linux/usbdevice_fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <thread>
#include <utility>

#include "act/hub_request.hpp"
#include "policy.hpp"
#include "util/path.hpp"

namespace usbrecover {

namespace {

// A hub answers a port request in microseconds; this only bounds a hub that no longer answers.
constexpr unsigned kControlTimeoutMs = 5000;
// A warm reset lasts 80 to 120 ms (USB 3.0 spec tReset) and the link's training after it up to
// 360 ms more (tPollingLFPSTimeout); the kernel gives its own resets 800 ms (HUB_RESET_TIMEOUT).
constexpr std::chrono::milliseconds kWarmResetTimeout{1000};
// How often the port's status is read meanwhile, as the kernel's hub_port_wait_reset does.
constexpr std::chrono::milliseconds kWarmResetPoll{10};

Error outside(const std::string& path, const std::string& root) {
  return Error{.context = {}, .object = path, .reason = "not below '" + root + "', refusing", .errnum = 0};
}

// Opens a usbfs node. usbfs open never blocks, which matters under umockdev's preload.
Result<int> open_node(const std::string& devnode) {
  int fd = ::open(devnode.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return errno_error(devnode, "open failed");
  return fd;
}

// One control request through usbfs; the number of bytes transferred, or -1 with errno set.
int send(int fd, const SetupPacket& p, void* data) {
  usbdevfs_ctrltransfer ctrl{};
  ctrl.bRequestType = p.request_type;
  ctrl.bRequest = p.request;
  ctrl.wValue = p.value;
  ctrl.wIndex = p.index;
  ctrl.wLength = p.length;
  ctrl.timeout = kControlTimeoutMs;
  ctrl.data = data;
  return ::ioctl(fd, USBDEVFS_CONTROL, &ctrl);
}

}  // namespace

LinuxEffects::LinuxEffects(std::string sysfs_root, std::string dev_root, std::function<bool()> stop)
    : sysfs_root_(std::move(sysfs_root)), dev_root_(std::move(dev_root)), stop_(std::move(stop)) {}

LinuxEffects::~LinuxEffects() {
  for (const auto& [node, fd] : held_) ::close(fd);
}

Status LinuxEffects::hold_resumed(const std::string& devnode) {
  if (!is_below(devnode, dev_root_)) return outside(devnode, dev_root_);
  for (const auto& held : held_) {
    if (held.first == devnode) return Ok{};
  }
  // Read-only is enough: usbfs resumes the device at open whatever the mode.
  const int fd = ::open(devnode.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_error(devnode, "open failed");
  held_.emplace_back(devnode, fd);
  return Ok{};
}

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
  Status st = Ok{};
  if (send(*fd, port_feature_request(on, kPortPowerFeature, static_cast<std::uint8_t>(port)), nullptr) < 0)
    st = errno_error(hub_devnode, reason);
  ::close(*fd);
  return st;
}

// The hub driver is left bound: usbfs passes a request to a port (recipient "other") through to
// the hub, and for a root hub to the controller driver's hub_control(), which is how port power
// is switched too. xHCI's hub_control() turns BH_PORT_RESET into PORTSC's Warm Port Reset bit.
// The hub driver then sees the port's reset-change bits and only clears them (the VM bed,
// tests/vm/README.md): the device, at address 0 and unconfigured after a warm reset, is not
// set up again until someone resets it the kernel's way, which the method's next step does.
Status LinuxEffects::warm_reset_port(const std::string& hub_devnode, unsigned port) {
  const std::string what = "port " + std::to_string(port) + " warm reset";
  auto fail = [&](const std::string& why) {
    return Error{.context = {}, .object = hub_devnode, .reason = what + ": " + why, .errnum = 0};
  };
  if (!is_below(hub_devnode, dev_root_)) return outside(hub_devnode, dev_root_);
  if (port == 0 || port > 255) return fail("no such port");
  auto fd = open_node(hub_devnode);
  if (!fd) return fd.error();
  const auto number = static_cast<std::uint8_t>(port);
  if (send(*fd, port_feature_request(true, kBhPortResetFeature, number), nullptr) < 0) {
    Error e = errno_error(hub_devnode, what + " failed");
    ::close(*fd);
    return e;
  }
  // The request only starts the reset. The next step (the kernel's own reset of the device) must
  // not begin while the link is still down, so wait for the port to say it is up.
  const auto deadline = std::chrono::steady_clock::now() + kWarmResetTimeout;
  Status st = Ok{};
  for (;;) {
    std::uint8_t status[4] = {};
    const int n = send(*fd, port_status_request(number), status);
    if (n < 0) {
      st = errno_error(hub_devnode, what + ": port status request failed");
      break;
    }
    if (n != 4) {
      st = fail("the hub answered the port status request with " + std::to_string(n) + " bytes, not 4");
      break;
    }
    const auto progress = warm_reset_progress(static_cast<std::uint16_t>(status[0] | (status[1] << 8)));
    if (progress.state == WarmResetProgress::State::Done) break;
    if (progress.state == WarmResetProgress::State::Failed) {
      st = fail(progress.why);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      st = fail("not over after " + format_duration(kWarmResetTimeout) + ": " + progress.why);
      break;
    }
    std::this_thread::sleep_for(kWarmResetPoll);
  }
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
