// SPDX-License-Identifier: MIT
#include "snapshot/probe.hpp"

#include <fcntl.h>
#include <linux/usbdevice_fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "snapshot/probe_megatec.hpp"

// libusb.h declares C flexible arrays in the zero-length spelling that -Wpedantic rejects in C++.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#include <libusb.h>
#pragma GCC diagnostic pop

namespace usbrecover {

namespace {

using State = ProbeResult::State;
using Clock = std::chrono::steady_clock;

constexpr std::uint8_t kRequestTypeStandardIn = 0x80;  // device-to-host, standard, device
constexpr std::uint8_t kRequestTypeClassInterfaceOut = 0x21;
constexpr std::uint8_t kGetStatus = 0x00;
constexpr std::uint8_t kGetDescriptor = 0x06;
constexpr std::uint8_t kHidSetReport = 0x09;
constexpr std::uint16_t kDeviceDescriptor = 0x0100;  // type 1 in the high byte, index 0
constexpr std::uint16_t kConfigDescriptor = 0x0200;  // type 2, the first configuration
constexpr std::size_t kMaxConfigBytes = 4096;        // far above any UPS's (usually under 50)
constexpr std::uint8_t kDefaultInterruptIn = 0x81;   // what NUT hard-codes

ProbeResult failed(std::string detail) {
  return {State::Failed, std::move(detail)};
}

// The program holding the interface (NUT's driver, as a rule) is talking to the device right
// now. Claiming it away or interleaving our query with its own would do more harm than any
// answer is worth, so the device counts as healthy: it is in use. Recovery then rests on the
// other signals (the driver's own failure reported through ExecStopPost).
ProbeResult held_by_other_program() {
  return {State::Healthy, "interface held by another program; not probed"};
}

std::string errno_text(int e) {
  return std::strerror(e);
}

// A timeout for usbfs and libusb, in whole milliseconds and never 0: to both, 0 means "forever".
unsigned timeout_ms(Millis t) {
  return static_cast<unsigned>(std::clamp<Millis::rep>(t.count(), 1, INT_MAX));
}

class Fd {
 public:
  Fd() = default;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_ = -1;
};

// Opens the node read-write, as the service that uses the device would.
std::optional<ProbeResult> open_node(const UsbDevice& device, Fd& fd) {
  if (device.devnode.empty()) return failed("no device node for '" + device.sysname + "'");
  fd.reset(::open(device.devnode.c_str(), O_RDWR | O_CLOEXEC));
  if (fd.get() < 0) return failed("open " + device.devnode + " failed: " + errno_text(errno));
  return std::nullopt;
}

// One control request through usbfs; the number of bytes transferred, or -errno.
long usbfs_control(int fd, std::uint8_t request_type, std::uint8_t request, std::uint16_t value,
                   std::uint16_t index, std::span<std::uint8_t> data, Millis timeout) {
  usbdevfs_ctrltransfer ct{};
  ct.bRequestType = request_type;
  ct.bRequest = request;
  ct.wValue = value;
  ct.wIndex = index;
  ct.wLength = static_cast<std::uint16_t>(data.size());
  ct.timeout = timeout_ms(timeout);
  ct.data = data.data();
  const int r = ::ioctl(fd, USBDEVFS_CONTROL, &ct);
  return r < 0 ? -errno : r;
}

ProbeResult probe_open(const UsbDevice& device, const ProbeOptions& options) {
  Fd fd;
  if (auto error = open_node(device, fd)) return *error;
  std::array<std::uint8_t, 2> status{};
  const long n = usbfs_control(fd.get(), kRequestTypeStandardIn, kGetStatus, 0, 0, status, options.timeout);
  if (n < 0) return failed("GET_STATUS failed: " + errno_text(static_cast<int>(-n)));
  if (n != 2) return failed("GET_STATUS returned " + std::to_string(n) + " bytes, expected 2");
  return {State::Healthy, "GET_STATUS answered"};
}

// The device descriptor as the device sends it now: its ids must be the ones the kernel
// enumerated. nullopt when it is; the failure otherwise.
std::optional<ProbeResult> check_device_descriptor(int fd, const UsbDevice& device,
                                                   const ProbeOptions& options) {
  std::array<std::uint8_t, 18> d{};
  const long n =
      usbfs_control(fd, kRequestTypeStandardIn, kGetDescriptor, kDeviceDescriptor, 0, d, options.timeout);
  if (n < 0) return failed("GET_DESCRIPTOR(DEVICE) failed: " + errno_text(static_cast<int>(-n)));
  if (n != 18) return failed("GET_DESCRIPTOR(DEVICE) returned " + std::to_string(n) + " bytes, expected 18");
  if (d[1] != 1) {
    char type[8];
    std::snprintf(type, sizeof type, "0x%02x", d[1]);
    return failed(std::string("device descriptor has type ") + type + ", expected 0x01");
  }
  const auto vendor = static_cast<std::uint16_t>(d[8] | (d[9] << 8));
  const auto product = static_cast<std::uint16_t>(d[10] | (d[11] << 8));
  if (vendor != device.vendor || product != device.product) {
    // Another device took the address, or the device enumerated as something else (a bootloader).
    return failed("device descriptor says " + hex4(vendor) + ":" + hex4(product) + ", expected " +
                  hex4(device.vendor) + ":" + hex4(device.product));
  }
  return std::nullopt;
}

ProbeResult probe_descriptor(const UsbDevice& device, const ProbeOptions& options) {
  Fd fd;
  if (auto error = open_node(device, fd)) return *error;
  if (auto error = check_device_descriptor(fd.get(), device, options)) return *error;
  return {State::Healthy,
          "device descriptor read (" + hex4(device.vendor) + ":" + hex4(device.product) + ")"};
}

// The first configuration descriptor, all of it (9-byte header, then wTotalLength bytes): the
// firmware assembles it over several packets. It must be well formed and name as many interfaces
// as the device has. nullopt when it does; the failure otherwise.
std::optional<ProbeResult> check_config_descriptor(int fd, const UsbDevice& device,
                                                   const ProbeOptions& options) {
  std::array<std::uint8_t, 9> head{};
  long n =
      usbfs_control(fd, kRequestTypeStandardIn, kGetDescriptor, kConfigDescriptor, 0, head, options.timeout);
  if (n < 0) return failed("GET_DESCRIPTOR(CONFIGURATION) failed: " + errno_text(static_cast<int>(-n)));
  if (n != 9)
    return failed("GET_DESCRIPTOR(CONFIGURATION) returned " + std::to_string(n) + " bytes, expected 9");
  if (head[1] != 2) {
    char type[8];
    std::snprintf(type, sizeof type, "0x%02x", head[1]);
    return failed(std::string("configuration descriptor has type ") + type + ", expected 0x02");
  }
  const std::size_t total = head[2] | (head[3] << 8);
  if (total < head.size() || total > kMaxConfigBytes) {
    return failed("configuration descriptor says it is " + std::to_string(total) + " bytes long (9 to " +
                  std::to_string(kMaxConfigBytes) + " expected)");
  }
  std::vector<std::uint8_t> full(total);
  n = usbfs_control(fd, kRequestTypeStandardIn, kGetDescriptor, kConfigDescriptor, 0, full, options.timeout);
  if (n < 0) return failed("GET_DESCRIPTOR(CONFIGURATION) failed: " + errno_text(static_cast<int>(-n)));
  if (static_cast<std::size_t>(n) != total) {
    return failed("GET_DESCRIPTOR(CONFIGURATION) returned " + std::to_string(n) + " of " +
                  std::to_string(total) + " bytes");
  }
  for (std::size_t at = 0; at < total;) {
    const std::size_t length = full[at];
    if (length < 2 || at + length > total)
      return failed("configuration descriptor is malformed at byte " + std::to_string(at));
    at += length;
  }
  std::set<std::uint8_t> numbers;
  for (const auto& i : device.interfaces) numbers.insert(i.number);
  if (!numbers.empty() && full[4] != numbers.size()) {
    return failed("configuration descriptor names " + std::to_string(full[4]) +
                  " interfaces, the device has " + std::to_string(numbers.size()));
  }
  return std::nullopt;
}

// Standard requests on the default control pipe only: usbfs hands a request addressed to the
// device to it without claiming an interface, so the driver that holds interface 0 (usbhid, or
// NUT's usbhid-ups through usbfs) keeps it and its transfers go on; each control transfer is
// whole on the wire, ours between two of the driver's. Every request is one the firmware answered
// at enumeration and must answer again, with the same device.
ProbeResult probe_control(const UsbDevice& device, const ProbeOptions& options) {
  Fd fd;
  if (auto error = open_node(device, fd)) return *error;
  std::array<std::uint8_t, 2> status{};
  const long n = usbfs_control(fd.get(), kRequestTypeStandardIn, kGetStatus, 0, 0, status, options.timeout);
  if (n < 0) return failed("GET_STATUS failed: " + errno_text(static_cast<int>(-n)));
  if (n != 2) return failed("GET_STATUS returned " + std::to_string(n) + " bytes, expected 2");
  if (auto error = check_device_descriptor(fd.get(), device, options)) return *error;
  if (auto error = check_config_descriptor(fd.get(), device, options)) return *error;
  return {State::Healthy, "status, device and configuration descriptors answered (" + hex4(device.vendor) +
                              ":" + hex4(device.product) + ")"};
}

// libusb's error codes in the errno words the rest of the helper prints.
std::string libusb_text(int r) {
  switch (r) {
    case LIBUSB_ERROR_IO:
      return errno_text(EIO);
    case LIBUSB_ERROR_INVALID_PARAM:
      return errno_text(EINVAL);
    case LIBUSB_ERROR_ACCESS:
      return errno_text(EACCES);
    case LIBUSB_ERROR_NO_DEVICE:
      return errno_text(ENODEV);
    case LIBUSB_ERROR_NOT_FOUND:
      return errno_text(ENOENT);
    case LIBUSB_ERROR_BUSY:
      return errno_text(EBUSY);
    case LIBUSB_ERROR_TIMEOUT:
      return errno_text(ETIMEDOUT);
    case LIBUSB_ERROR_OVERFLOW:
      return errno_text(EOVERFLOW);
    case LIBUSB_ERROR_PIPE:
      return errno_text(EPIPE);
    case LIBUSB_ERROR_INTERRUPTED:
      return errno_text(EINTR);
    case LIBUSB_ERROR_NO_MEM:
      return errno_text(ENOMEM);
    case LIBUSB_ERROR_NOT_SUPPORTED:
      return errno_text(EOPNOTSUPP);
    default:
      return libusb_strerror(r);
  }
}

// A libusb context and a handle wrapped around an fd we opened: libusb neither scans the bus nor
// starts its hotplug thread, and talks to exactly the node the snapshot named (no window in
// which the bus/devnum could name a different device).
class LibusbDevice {
 public:
  LibusbDevice() = default;
  ~LibusbDevice() {
    if (handle_ != nullptr) libusb_close(handle_);  // leaves the fd open (libusb does not own it)
    if (ctx_ != nullptr) libusb_exit(ctx_);
  }
  LibusbDevice(const LibusbDevice&) = delete;
  LibusbDevice& operator=(const LibusbDevice&) = delete;

  int wrap(int fd) {
    // Set on the NULL context, the option applies to the contexts created afterwards.
    libusb_set_option(nullptr, LIBUSB_OPTION_NO_DEVICE_DISCOVERY);
    if (const int r = libusb_init(&ctx_); r < 0) {
      ctx_ = nullptr;
      return r;
    }
    return libusb_wrap_sys_device(ctx_, fd, &handle_);
  }
  [[nodiscard]] libusb_device_handle* get() const { return handle_; }

 private:
  libusb_context* ctx_ = nullptr;
  libusb_device_handle* handle_ = nullptr;
};

// The name of the driver bound to the interface at `interface_syspath` now, empty when none.
std::string bound_driver(const std::string& interface_syspath) {
  char buf[256];
  const ssize_t n = ::readlink((interface_syspath + "/driver").c_str(), buf, sizeof buf - 1);
  if (n <= 0) return {};
  const std::string target(buf, static_cast<std::size_t>(n));
  return target.substr(target.rfind('/') + 1);
}

// Interface 0 claimed for the exchange, its kernel driver (usbhid) detached first when one is
// bound, with the detach journaled before it happens. release() undoes both in that order (the
// kernel binds no driver to a claimed interface); the destructor does it on any path that did not.
class ClaimedInterface {
 public:
  ClaimedInterface(libusb_device_handle* handle, const UsbDevice& device, const Interface* intf,
                   DetachJournal* journal)
      : handle_(handle), device_(device), intf_(intf), journal_(journal) {}
  ~ClaimedInterface() { (void)release(); }
  ClaimedInterface(const ClaimedInterface&) = delete;
  ClaimedInterface& operator=(const ClaimedInterface&) = delete;

  // 0, or the libusb error of the step that failed, named in `step`; kNotJournaled when a driver
  // would have to be detached but that cannot be journaled (no journal, or its name unknown).
  static constexpr int kNotJournaled = 1;
  int claim(std::string& step) {
    // 1: a kernel driver is bound. 0: none, or usbfs (another program; the claim says so).
    if (libusb_kernel_driver_active(handle_, 0) == 1) {
      // The snapshot may predate the bind (a cold plug: udev's add, then usbhid): ask sysfs now.
      const std::string driver = intf_ == nullptr ? std::string()
                                 : !intf_->driver.empty()
                                     ? intf_->driver
                                     : bound_driver(device_.syspath + "/" + intf_->sysname);
      if (journal_ == nullptr || intf_ == nullptr || driver.empty()) {
        step = "interface 0 has a kernel driver, and detaching it could not be journaled";
        return kNotJournaled;
      }
      if (auto st = journal_->detaching(device_, intf_->sysname, driver); !st) {
        step = "journaling the detach of " + driver + " failed: " + st.error().message();
        return kNotJournaled;
      }
      journaled_ = true;
      const int r = libusb_detach_kernel_driver(handle_, 0);
      if (r == 0) {
        detached_ = true;
      } else if (r != LIBUSB_ERROR_NOT_FOUND) {  // NOT_FOUND: it went away meanwhile
        step = "detaching the kernel driver from interface 0";
        (void)release();
        return r;
      }
    }
    if (const int r = libusb_claim_interface(handle_, 0); r < 0) {
      step = "claiming interface 0";
      (void)release();
      return r;
    }
    claimed_ = true;
    return 0;
  }

  // Empty, or what could not be undone (its intent then stays for `usbrecover repair`).
  std::string release() {
    std::string error;
    if (claimed_) {
      claimed_ = false;
      const int r = libusb_release_interface(handle_, 0);
      if (r < 0 && r != LIBUSB_ERROR_NO_DEVICE) error = "releasing interface 0 failed: " + libusb_text(r);
    }
    bool reattached = true;
    if (detached_) {
      detached_ = false;
      const int r = libusb_attach_kernel_driver(handle_, 0);
      if (r < 0 && r != LIBUSB_ERROR_NO_DEVICE) {
        reattached = false;
        if (!error.empty()) error += "; ";
        error += "re-attaching the kernel driver to interface 0 failed: " + libusb_text(r);
      }
    }
    if (journaled_ && reattached) {
      journaled_ = false;
      journal_->attached();
    }
    return error;
  }

 private:
  libusb_device_handle* handle_;
  const UsbDevice& device_;
  const Interface* intf_;
  DetachJournal* journal_;
  bool journaled_ = false;
  bool detached_ = false;
  bool claimed_ = false;
};

const Interface* interface_zero(const UsbDevice& device) {
  const auto it = std::find_if(device.interfaces.begin(), device.interfaces.end(),
                               [](const Interface& i) { return i.number == 0; });
  return it == device.interfaces.end() ? nullptr : &*it;
}

// The first interrupt IN endpoint of interface 0, else the 0x81 that NUT hard-codes.
std::uint8_t interrupt_in(const Interface* intf) {
  if (intf != nullptr) {
    for (const auto& e : intf->endpoints) {
      if ((e.address & 0x80) != 0 && (e.attributes & 0x3) == 0x3) return e.address;
    }
  }
  return kDefaultInterruptIn;
}

// Q1 as nutdrv_qx sends it: SET_REPORT chunks, then the reply from the interrupt endpoint. Each
// chunk may take up to `timeout`; the whole reply must arrive within `timeout`.
ProbeResult exchange_q1(libusb_device_handle* handle, const MegatecShape& shape, std::uint8_t endpoint,
                        Millis timeout) {
  for (auto& chunk : megatec_chunks(kMegatecStatusQuery)) {
    const int r =
        libusb_control_transfer(handle, kRequestTypeClassInterfaceOut, kHidSetReport, shape.report_value, 0,
                                chunk.data(), static_cast<std::uint16_t>(chunk.size()), timeout_ms(timeout));
    if (r < 0) return failed("Q1 SET_REPORT failed: " + libusb_text(r));
    if (static_cast<std::size_t>(r) != chunk.size()) {
      return failed("Q1 SET_REPORT took " + std::to_string(r) + " of " + std::to_string(chunk.size()) +
                    " bytes");
    }
  }

  std::array<std::uint8_t, 64> reply{};
  const std::size_t max_reply = std::min(shape.max_reply, reply.size());
  std::size_t got = 0;
  bool timed_out = false;
  const auto deadline = Clock::now() + timeout;
  while (got < max_reply) {
    const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
    if (left <= Millis(0)) {
      timed_out = true;
      break;
    }
    const std::size_t want = std::min(shape.read_size, max_reply - got);
    int transferred = 0;
    const int r = libusb_interrupt_transfer(handle, endpoint, reply.data() + got, static_cast<int>(want),
                                            &transferred, timeout_ms(left));
    got += std::clamp<std::size_t>(static_cast<std::size_t>(std::max(transferred, 0)), 0, want);
    if (r == LIBUSB_ERROR_TIMEOUT) {
      timed_out = true;
      break;
    }
    if (r < 0) return failed("Q1 reply read failed: " + libusb_text(r));
    if (shape.single_read || megatec_reply_complete(std::span(reply.data(), got))) break;
  }
  if (got == 0 && timed_out) return failed("Q1 got no reply within " + format_duration(timeout));
  return judge_megatec_reply(std::span(reply.data(), got));
}

ProbeResult probe_megatec(const UsbDevice& device, const ProbeOptions& options) {
  const Interface* intf = interface_zero(device);
  if (intf != nullptr && intf->driver == "usbfs") return held_by_other_program();

  Fd fd;
  if (auto error = open_node(device, fd)) return *error;
  LibusbDevice usb;
  if (const int r = usb.wrap(fd.get()); r < 0) {
    return failed("libusb cannot use " + device.devnode + ": " + libusb_text(r));
  }
  ClaimedInterface claimed(usb.get(), device, intf, options.journal);
  std::string step;
  if (const int r = claimed.claim(step); r != 0) {
    if (r == ClaimedInterface::kNotJournaled) return failed("not probed: " + step);
    // Claimed by another program since the snapshot was read: the same case as usbfs above.
    if (r == LIBUSB_ERROR_BUSY) return held_by_other_program();
    return failed(step + " failed: " + libusb_text(r));
  }
  ProbeResult result = exchange_q1(usb.get(), megatec_shape(device.vendor, device.product),
                                   interrupt_in(intf), options.timeout);
  // The answer stands even when the driver could not be put back: the device did answer. The
  // detail carries what was left undone, for the journal.
  if (std::string error = claimed.release(); !error.empty()) result.detail += "; " + error;
  return result;
}

}  // namespace

ProbeResult run_probe(Probe kind, const UsbDevice& device, const ProbeOptions& options) {
  try {
    switch (kind) {
      case Probe::None:
        return {State::NotConfigured, "no probe configured"};
      case Probe::Open:
        return probe_open(device, options);
      case Probe::Descriptor:
        return probe_descriptor(device, options);
      case Probe::MegatecQ1:
        return probe_megatec(device, options);
      case Probe::Control:
        return probe_control(device, options);
    }
    return failed("unknown probe");
  } catch (const std::exception& e) {
    // Only allocation can throw here; a probe that cannot run has not shown the device healthy.
    return failed(std::string("probe failed: ") + e.what());
  }
}

}  // namespace usbrecover
