// SPDX-License-Identifier: MIT
#include "ups_sim.hpp"

#include <linux/usb/ch9.h>
#include <linux/usbdevice_fs.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <deque>
#include <initializer_list>

namespace usbrecover::testing {

// A URB between submit and reap. The umockdev data objects are the caller's memory: writing
// into them and pointing the reaper's argument at `urb` copies the result back to libusb.
struct SimulatedUps::Urb {
  UMockdevIoctlData* urb = nullptr;
  UMockdevIoctlData* buffer = nullptr;  // nullptr for a zero-length buffer
  std::uint8_t type = 0;
  std::uint8_t endpoint = 0;
  int buffer_length = 0;
  bool done = false;
  int status = 0;
  int actual_length = 0;
};

struct SimulatedUps::Node {
  UpsModel model;
  std::string kernel_driver;              // what the kernel binds on CONNECT ("" when nothing would)
  bool claimed = false;                   // by the code under test, through this node
  std::string command;                    // bytes received by SET_REPORT since the last '\r'
  std::deque<std::uint8_t> out;           // reply bytes not yet delivered
  std::vector<Urb> urbs;                  // submission order; reaped ones removed
  std::vector<UMockdevIoctlData*> order;  // completed, unreaped URBs in completion order
  std::vector<UpsEvent> events;
};

namespace {

constexpr std::uint8_t kHidSetReport = 0x09;

unsigned devnum_of(const std::string& devnode) {
  return static_cast<unsigned>(std::stoul(devnode.substr(devnode.rfind('/') + 1)));
}

}  // namespace

SimulatedUps::SimulatedUps(UsbfsFake& usbfs) {
  usbfs.on_request(USBDEVFS_CONTROL, [this](IoctlCall& c) { return control_ioctl(c); });
  usbfs.on_request(USBDEVFS_SUBMITURB, [this](IoctlCall& c) { return submit(c); });
  usbfs.on_request(USBDEVFS_REAPURB, [this](IoctlCall& c) { return reap(c); });
  usbfs.on_request(USBDEVFS_REAPURBNDELAY, [this](IoctlCall& c) { return reap(c); });
  usbfs.on_request(USBDEVFS_DISCARDURB, [this](IoctlCall& c) { return discard(c); });
  for (unsigned long r : std::initializer_list<unsigned long>{
           USBDEVFS_CLAIMINTERFACE, USBDEVFS_RELEASEINTERFACE, USBDEVFS_DISCONNECT_CLAIM}) {
    usbfs.on_request(r, [this](IoctlCall& c) { return interface_request(c); });
  }
  for (unsigned long r : std::initializer_list<unsigned long>{USBDEVFS_IOCTL, USBDEVFS_GETDRIVER}) {
    usbfs.on_request(r, [this](IoctlCall& c) { return driver_ioctl(c); });
  }
  for (unsigned long r : std::initializer_list<unsigned long>{USBDEVFS_CONNECTINFO, USBDEVFS_GET_SPEED,
                                                              USBDEVFS_GET_CAPABILITIES, USBDEVFS_CLEAR_HALT,
                                                              USBDEVFS_RESETEP}) {
    usbfs.on_request(r, [this](IoctlCall& c) { return info(c); });
  }
}

SimulatedUps::~SimulatedUps() {
  for (auto& [path, n] : nodes_) {
    for (auto& u : n.urbs) {
      if (u.buffer != nullptr) umockdev_ioctl_data_unref(u.buffer);
      umockdev_ioctl_data_unref(u.urb);
    }
  }
}

void SimulatedUps::add(Testbed& bed, const std::string& devnode, UpsModel model) {
  // libusb_wrap_sys_device() reads the descriptors from the node, as usbfs serves them.
  const std::string file = bed.root_dir() + devnode;
  g_file_set_contents(file.c_str(), reinterpret_cast<const gchar*>(model.descriptors.data()),
                      static_cast<gssize>(model.descriptors.size()), nullptr);
  std::lock_guard lock(mutex_);
  Node n;
  n.kernel_driver = model.driver == "usbfs" ? "" : model.driver;
  n.model = std::move(model);
  nodes_[devnode] = std::move(n);
}

std::vector<UpsEvent> SimulatedUps::events(const std::string& devnode) const {
  std::lock_guard lock(mutex_);
  const auto it = nodes_.find(devnode);
  return it == nodes_.end() ? std::vector<UpsEvent>{} : it->second.events;
}

std::string SimulatedUps::driver(const std::string& devnode) const {
  std::lock_guard lock(mutex_);
  const auto it = nodes_.find(devnode);
  return it == nodes_.end() ? "" : it->second.model.driver;
}

std::size_t SimulatedUps::urbs_outstanding(const std::string& devnode) const {
  std::lock_guard lock(mutex_);
  const auto it = nodes_.find(devnode);
  return it == nodes_.end() ? 0 : it->second.urbs.size();
}

SimulatedUps::Node* SimulatedUps::node(const std::string& devnode) {
  const auto it = nodes_.find(devnode);
  return it == nodes_.end() ? nullptr : &it->second;
}

// The device's side of a control request: bytes transferred (IN data written to `data`), or
// -errno for a stall. Called with the lock held.
int SimulatedUps::device_control(Node& n, const Setup& s, std::uint8_t* data, bool via_urb) {
  UpsEvent e;
  e.kind = UpsEvent::Kind::Control;
  e.request_type = s.request_type;
  e.b_request = s.b_request;
  e.value = s.value;
  e.index = s.index;
  e.length = s.length;
  e.via_urb = via_urb;
  const bool in = (s.request_type & USB_DIR_IN) != 0;
  if (!in && data != nullptr) e.data.assign(data, data + s.length);
  n.events.push_back(e);

  auto answer = [&](const std::vector<std::uint8_t>& bytes) {
    const std::size_t len = std::min<std::size_t>(bytes.size(), s.length);
    if (len > 0) std::memcpy(data, bytes.data(), len);
    return static_cast<int>(len);
  };
  const auto& d = n.model.descriptors;
  if (s.request_type == USB_DIR_IN && s.b_request == USB_REQ_GET_STATUS) return answer(n.model.status);
  if (s.request_type == USB_DIR_IN && s.b_request == USB_REQ_GET_CONFIGURATION) return answer({1});
  if (s.request_type == USB_DIR_IN && s.b_request == USB_REQ_GET_DESCRIPTOR) {
    if (s.value == (USB_DT_DEVICE << 8))
      return answer({d.begin(), d.begin() + std::min<std::ptrdiff_t>(18, std::ssize(d))});
    if (s.value == (USB_DT_CONFIG << 8) && d.size() > 18) return answer({d.begin() + 18, d.end()});
    return -EPIPE;
  }
  if (s.request_type == (USB_DIR_OUT | USB_TYPE_CLASS | USB_RECIP_INTERFACE) &&
      s.b_request == kHidSetReport && s.index == 0) {
    // A bridge that does not understand the report id stalls, as the real ones do.
    if (s.value != n.model.report_value) return -EPIPE;
    for (std::uint16_t i = 0; i < s.length; ++i) {
      if (data[i] == 0) continue;  // NUL padding of the 8-byte chunk is not sent on the serial line
      n.command += static_cast<char>(data[i]);
      if (data[i] != '\r') continue;
      if (n.command == "Q1\r" && !n.model.hung)
        n.out.insert(n.out.end(), n.model.reply.begin(), n.model.reply.end());
      n.command.clear();
    }
    deliver(n);
    return s.length;
  }
  return -EPIPE;
}

// Completes waiting interrupt IN URBs with reply bytes, in submission order.
void SimulatedUps::deliver(Node& n) {
  for (auto& u : n.urbs) {
    if (n.out.empty() || n.model.hung) return;
    if (u.done || u.type != USBDEVFS_URB_TYPE_INTERRUPT || (u.endpoint & USB_DIR_IN) == 0) continue;
    const std::size_t len =
        std::min({n.out.size(), n.model.packet, static_cast<std::size_t>(u.buffer_length)});
    for (std::size_t i = 0; i < len; ++i) {
      u.buffer->data[i] = n.out.front();
      n.out.pop_front();
    }
    u.done = true;
    u.status = 0;
    u.actual_length = static_cast<int>(len);
    n.order.push_back(u.urb);
  }
}

IoctlReply SimulatedUps::control_ioctl(IoctlCall& call) {
  UsbfsCall& r = call.record();
  if (call.arg(sizeof(usbdevfs_ctrltransfer)) == nullptr) return {-1, EFAULT};
  std::uint8_t* data = r.length > 0 ? call.pointee(offsetof(usbdevfs_ctrltransfer, data), r.length) : nullptr;
  if (r.length > 0 && data == nullptr) return {-1, EFAULT};
  std::lock_guard lock(mutex_);
  Node* n = node(r.devnode);
  if (n == nullptr) return {-1, EPIPE};
  const int result =
      device_control(*n, {r.request_type, r.b_request, r.value, r.index, r.length}, data, false);
  if (result < 0) return {-1, -result};
  if ((r.request_type & USB_DIR_IN) != 0) r.data.assign(data, data + result);
  return {result, 0};
}

IoctlReply SimulatedUps::submit(IoctlCall& call) {
  GError* error = nullptr;
  UMockdevIoctlData* urb_data = umockdev_ioctl_data_resolve(call.arg_data(), 0, sizeof(usbdevfs_urb), &error);
  if (error != nullptr) g_error_free(error);
  if (urb_data == nullptr) return {-1, EFAULT};
  auto* urb = reinterpret_cast<usbdevfs_urb*>(urb_data->data);
  Urb u;
  u.urb = urb_data;
  u.type = urb->type;
  u.endpoint = urb->endpoint;
  u.buffer_length = urb->buffer_length;
  if (u.buffer_length > 0) {
    u.buffer = umockdev_ioctl_data_resolve(urb_data, offsetof(usbdevfs_urb, buffer),
                                           static_cast<gsize>(u.buffer_length), &error);
    if (error != nullptr) g_error_free(error);
    if (u.buffer == nullptr) {
      umockdev_ioctl_data_unref(urb_data);
      return {-1, EFAULT};
    }
  }

  std::lock_guard lock(mutex_);
  Node* n = node(call.devnode());
  if (n == nullptr || (u.type == USBDEVFS_URB_TYPE_CONTROL && u.buffer_length < 8)) {
    if (u.buffer != nullptr) umockdev_ioctl_data_unref(u.buffer);
    umockdev_ioctl_data_unref(urb_data);
    return {-1, n == nullptr ? ENODEV : EINVAL};
  }
  UpsEvent e;
  e.kind = UpsEvent::Kind::Submit;
  e.urb_type = u.type;
  e.endpoint = u.endpoint;
  e.buffer_length = u.buffer_length;
  n->events.push_back(e);

  if (u.type == USBDEVFS_URB_TYPE_CONTROL) {
    // The 8-byte setup packet leads the buffer; a control URB completes at once.
    const std::uint8_t* b = u.buffer->data;
    const Setup s{b[0], b[1], static_cast<std::uint16_t>(b[2] | (b[3] << 8)),
                  static_cast<std::uint16_t>(b[4] | (b[5] << 8)),
                  static_cast<std::uint16_t>(b[6] | (b[7] << 8))};
    if (8 + s.length > u.buffer_length) {
      umockdev_ioctl_data_unref(u.buffer);
      umockdev_ioctl_data_unref(urb_data);
      return {-1, EINVAL};
    }
    const int result = device_control(*n, s, u.buffer->data + 8, true);
    u.done = true;
    u.status = result < 0 ? result : 0;
    u.actual_length = std::max(result, 0);
    n->order.push_back(u.urb);
  } else if ((u.endpoint & USB_DIR_IN) == 0) {
    u.done = true;  // OUT data to a UPS that only listens on control: accepted and dropped
    u.actual_length = u.buffer_length;
    n->order.push_back(u.urb);
  }
  n->urbs.push_back(u);
  deliver(*n);
  return {0, 0};
}

IoctlReply SimulatedUps::reap(IoctlCall& call) {
  std::lock_guard lock(mutex_);
  Node* n = node(call.devnode());
  if (n == nullptr) return {-1, ENODEV};
  // A URB that never completes stays queued; the caller's timeout discards it. Blocking
  // REAPURB would wait forever here, so it answers like the non-blocking one.
  if (n->order.empty()) return {-1, EAGAIN};
  const auto it =
      std::find_if(n->urbs.begin(), n->urbs.end(), [&](const Urb& u) { return u.urb == n->order.front(); });
  n->order.erase(n->order.begin());
  if (it == n->urbs.end()) return {-1, EAGAIN};
  Urb u = *it;
  n->urbs.erase(it);

  auto* urb = reinterpret_cast<usbdevfs_urb*>(u.urb->data);
  urb->status = u.status;
  urb->actual_length = u.actual_length;
  GError* error = nullptr;
  UMockdevIoctlData* ptr = umockdev_ioctl_data_resolve(call.arg_data(), 0, sizeof(void*), &error);
  if (error != nullptr) g_error_free(error);
  IoctlReply reply{-1, EFAULT};
  if (ptr != nullptr) {
    // The reaper's pointer now names the caller's URB; its fields and buffer (children of the
    // URB data) are written back when the ioctl completes.
    umockdev_ioctl_data_set_ptr(ptr, 0, u.urb);
    umockdev_ioctl_data_unref(ptr);
    reply = {0, 0};
  }
  UpsEvent e;
  e.kind = UpsEvent::Kind::Reap;
  e.urb_type = u.type;
  e.endpoint = u.endpoint;
  e.buffer_length = u.buffer_length;
  e.status = u.status;
  n->events.push_back(e);
  if (u.buffer != nullptr) umockdev_ioctl_data_unref(u.buffer);
  umockdev_ioctl_data_unref(u.urb);
  return reply;
}

IoctlReply SimulatedUps::discard(IoctlCall& call) {
  const unsigned long address = call.raw_arg();
  std::lock_guard lock(mutex_);
  Node* n = node(call.devnode());
  if (n == nullptr) return {-1, ENODEV};
  for (auto& u : n->urbs) {
    if (u.urb->client_addr != address || u.done) continue;
    u.done = true;
    u.status = -ENOENT;
    u.actual_length = 0;
    n->order.push_back(u.urb);
    UpsEvent e;
    e.kind = UpsEvent::Kind::Discard;
    e.urb_type = u.type;
    e.endpoint = u.endpoint;
    e.buffer_length = u.buffer_length;
    n->events.push_back(e);
    return {0, 0};
  }
  return {-1, EINVAL};
}

IoctlReply SimulatedUps::interface_request(IoctlCall& call) {
  const unsigned long request = call.request();
  const std::size_t size =
      request == USBDEVFS_DISCONNECT_CLAIM ? sizeof(usbdevfs_disconnect_claim) : sizeof(unsigned);
  const std::uint8_t* arg = call.arg(size);
  if (arg == nullptr) return {-1, EFAULT};
  unsigned intf = 0;
  std::memcpy(&intf, arg, sizeof intf);
  std::lock_guard lock(mutex_);
  Node* n = node(call.devnode());
  if (n == nullptr) return {-1, ENODEV};
  if (intf != 0) return {-1, ENOENT};  // the bridge has one interface
  UpsEvent e;
  e.interface = intf;
  std::string& bound = n->model.driver;
  if (request == USBDEVFS_RELEASEINTERFACE) {
    e.kind = UpsEvent::Kind::Release;
    n->events.push_back(e);
    if (!n->claimed) return {-1, EINVAL};
    n->claimed = false;
    bound.clear();
    return {0, 0};
  }
  e.kind = UpsEvent::Kind::Claim;
  n->events.push_back(e);
  if (request == USBDEVFS_DISCONNECT_CLAIM && bound != "usbfs" && !bound.empty()) {
    e.kind = UpsEvent::Kind::Disconnect;
    n->events.push_back(e);
    bound.clear();
  }
  if (n->claimed) return {0, 0};
  if (!bound.empty()) return {-1, EBUSY};  // a kernel driver, or another program's usbfs claim
  n->claimed = true;
  bound = "usbfs";
  return {0, 0};
}

IoctlReply SimulatedUps::driver_ioctl(IoctlCall& call) {
  const bool getdriver = call.request() == USBDEVFS_GETDRIVER;
  std::uint8_t* arg = call.arg(getdriver ? sizeof(usbdevfs_getdriver) : sizeof(usbdevfs_ioctl));
  if (arg == nullptr) return {-1, EFAULT};
  std::lock_guard lock(mutex_);
  Node* n = node(call.devnode());
  if (n == nullptr) return {-1, ENODEV};
  std::string& bound = n->model.driver;
  if (getdriver) {
    auto* gd = reinterpret_cast<usbdevfs_getdriver*>(arg);
    if (gd->interface != 0 || bound.empty()) return {-1, ENODATA};
    std::memset(gd->driver, 0, sizeof gd->driver);
    std::memcpy(gd->driver, bound.data(), std::min(bound.size(), sizeof gd->driver - 1));
    return {0, 0};
  }
  const auto* io = reinterpret_cast<usbdevfs_ioctl*>(arg);
  if (io->ifno != 0) return {-1, EINVAL};
  UpsEvent e;
  e.interface = 0;
  if (io->ioctl_code == static_cast<int>(USBDEVFS_DISCONNECT)) {
    e.kind = UpsEvent::Kind::Disconnect;
    n->events.push_back(e);
    if (bound.empty()) return {-1, ENODATA};
    bound.clear();
    return {0, 0};
  }
  if (io->ioctl_code == static_cast<int>(USBDEVFS_CONNECT)) {
    e.kind = UpsEvent::Kind::Connect;
    n->events.push_back(e);
    if (!bound.empty()) return {-1, EBUSY};  // the kernel binds nothing to a claimed interface
    bound = n->kernel_driver;
    return {bound.empty() ? 0 : 1, 0};  // device_attach(): 1 when a driver took the interface
  }
  return {-1, ENOTTY};
}

IoctlReply SimulatedUps::info(IoctlCall& call) {
  const unsigned long request = call.request();
  std::lock_guard lock(mutex_);
  Node* n = node(call.devnode());
  if (n == nullptr) return {-1, ENODEV};
  if (request == USBDEVFS_GET_SPEED) return {USB_SPEED_LOW, 0};
  if (request == USBDEVFS_CLEAR_HALT || request == USBDEVFS_RESETEP) return {0, 0};
  if (request == USBDEVFS_GET_CAPABILITIES) {
    std::uint8_t* arg = call.arg(sizeof(std::uint32_t));
    if (arg == nullptr) return {-1, EFAULT};
    const std::uint32_t caps = USBDEVFS_CAP_ZERO_PACKET | USBDEVFS_CAP_BULK_CONTINUATION |
                               USBDEVFS_CAP_NO_PACKET_SIZE_LIM | USBDEVFS_CAP_REAP_AFTER_DISCONNECT;
    std::memcpy(arg, &caps, sizeof caps);
    return {0, 0};
  }
  auto* ci = reinterpret_cast<usbdevfs_connectinfo*>(call.arg(sizeof(usbdevfs_connectinfo)));
  if (ci == nullptr) return {-1, EFAULT};
  ci->devnum = devnum_of(call.devnode());
  ci->slow = 1;  // a low-speed bridge, as these UPSes are
  return {0, 0};
}

}  // namespace usbrecover::testing
