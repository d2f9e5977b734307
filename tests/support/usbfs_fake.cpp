// SPDX-License-Identifier: MIT
#include "usbfs_fake.hpp"

#include <linux/usbdevice_fs.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>

namespace usbrecover::testing {

IoctlCall::IoctlCall(UMockdevIoctlClient* client, UsbfsCall& record)
    : client_(client), record_(record), arg_(umockdev_ioctl_client_get_arg(client)) {}

IoctlCall::~IoctlCall() {
  // resolve() hands out references; the argument keeps its own until the ioctl completes.
  for (auto* d : owned_) umockdev_ioctl_data_unref(d);
}

unsigned long IoctlCall::raw_arg() const {
  if (arg_ == nullptr || arg_->data_len < static_cast<int>(sizeof(unsigned long))) return 0;
  unsigned long v = 0;
  std::memcpy(&v, arg_->data, sizeof v);
  return v;
}

std::uint8_t* IoctlCall::arg(std::size_t size) {
  if (arg_ == nullptr) return nullptr;
  GError* error = nullptr;
  UMockdevIoctlData* d = umockdev_ioctl_data_resolve(arg_, 0, size, &error);
  if (error != nullptr) g_error_free(error);
  if (d == nullptr) return nullptr;
  owned_.push_back(d);
  return d->data;
}

std::uint8_t* IoctlCall::pointee(std::size_t offset, std::size_t len) {
  if (owned_.empty() || len == 0) return nullptr;
  GError* error = nullptr;
  UMockdevIoctlData* d = umockdev_ioctl_data_resolve(owned_.front(), offset, len, &error);
  if (error != nullptr) g_error_free(error);
  if (d == nullptr) return nullptr;
  owned_.push_back(d);
  return d->data;
}

UsbfsFake::UsbfsFake() : base_(umockdev_ioctl_base_new()) {
  g_signal_connect(base_, "handle-ioctl", G_CALLBACK(&UsbfsFake::dispatch), this);
}

// umockdev's preload opens the testbed's file for the node; each descriptor on it is one open.
// (umockdev 0.17 never emits its "client-vanished" signal, so the server side cannot count
// closes.)
int UsbfsFake::open_now(const std::string& devnode) const {
  std::string file;
  {
    std::lock_guard lock(mutex_);
    auto it = files_.find(devnode);
    if (it == files_.end()) return 0;
    file = it->second;
  }
  int n = 0;
  std::error_code ec;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    std::error_code lec;
    if (std::filesystem::read_symlink(fd.path(), lec) == file) ++n;
  }
  return n;
}

UsbfsFake::~UsbfsFake() {
  g_object_unref(base_);
}

Status UsbfsFake::attach(UMockdevTestbed* testbed, const std::string& devnode) {
  // The preload only routes a node to us when a file for it exists in the testbed's /dev.
  gchar* root = umockdev_testbed_get_root_dir(testbed);
  const std::string file = std::string(root) + devnode;
  g_free(root);
  gchar* dir = g_path_get_dirname(file.c_str());
  g_mkdir_with_parents(dir, 0755);
  g_free(dir);
  if (!g_file_test(file.c_str(), G_FILE_TEST_EXISTS)) g_file_set_contents(file.c_str(), "", 0, nullptr);
  {
    std::lock_guard lock(mutex_);
    files_[devnode] = file;
  }
  GError* error = nullptr;
  if (!umockdev_testbed_attach_ioctl(testbed, devnode.c_str(), base_, &error)) {
    Error e{"", devnode, error != nullptr ? error->message : "cannot attach ioctl handler", 0};
    if (error != nullptr) g_error_free(error);
    return e;
  }
  return Ok{};
}

void UsbfsFake::on_control(const std::string& devnode, ControlMatch match, ControlReply reply) {
  std::lock_guard lock(mutex_);
  rules_.push_back({devnode, match, std::move(reply)});
}

void UsbfsFake::fail(const std::string& devnode, unsigned long request, int error, int times) {
  std::lock_guard lock(mutex_);
  failures_.push_back({devnode, request, error, times});
}

void UsbfsFake::clear_failures() {
  std::lock_guard lock(mutex_);
  failures_.clear();
}

void UsbfsFake::on_request(unsigned long request, Handler handler) {
  std::lock_guard lock(mutex_);
  handlers_[request] = std::move(handler);
}

std::vector<UsbfsCall> UsbfsFake::calls() const {
  std::lock_guard lock(mutex_);
  return calls_;
}

std::vector<UsbfsCall> UsbfsFake::calls(const std::string& devnode) const {
  std::lock_guard lock(mutex_);
  std::vector<UsbfsCall> out;
  std::copy_if(calls_.begin(), calls_.end(), std::back_inserter(out),
               [&devnode](const UsbfsCall& c) { return c.devnode == devnode; });
  return out;
}

void UsbfsFake::clear_calls() {
  std::lock_guard lock(mutex_);
  calls_.clear();
}

int UsbfsFake::dispatch(UMockdevIoctlBase* /*base*/, UMockdevIoctlClient* client, void* self) {
  static_cast<UsbfsFake*>(self)->handle(client);
  return TRUE;
}

std::optional<int> UsbfsFake::take_failure(const std::string& devnode, unsigned long request) {
  std::lock_guard lock(mutex_);
  for (auto it = failures_.begin(); it != failures_.end(); ++it) {
    if ((it->devnode.empty() || it->devnode == devnode) &&
        (it->request == kAnyRequest || it->request == request) && it->times != 0) {
      const int error = it->error;
      if (it->times > 0 && --it->times == 0) failures_.erase(it);
      return error;
    }
  }
  return std::nullopt;
}

void UsbfsFake::handle(UMockdevIoctlClient* client) {
  UsbfsCall record;
  record.devnode = umockdev_ioctl_client_get_devnode(client);
  record.request = umockdev_ioctl_client_get_request(client);
  IoctlReply reply;
  {
    IoctlCall call(client, record);
    // Decode the setup packet first so that even an injected failure is recorded with it.
    usbdevfs_ctrltransfer* ct = nullptr;
    if (record.request == USBDEVFS_CONTROL) {
      ct = reinterpret_cast<usbdevfs_ctrltransfer*>(call.arg(sizeof(usbdevfs_ctrltransfer)));
      if (ct != nullptr) {
        record.request_type = ct->bRequestType;
        record.b_request = ct->bRequest;
        record.value = ct->wValue;
        record.index = ct->wIndex;
        record.length = ct->wLength;
        record.timeout = ct->timeout;
      }
    }
    Handler handler;
    {
      std::lock_guard lock(mutex_);
      if (auto it = handlers_.find(record.request); it != handlers_.end()) handler = it->second;
    }
    if (auto error = take_failure(record.devnode, record.request)) {
      reply = {-1, *error};
    } else if (handler) {
      reply = handler(call);
    } else if (record.request == USBDEVFS_CONTROL) {
      reply = ct != nullptr ? control(call) : IoctlReply{-1, EFAULT};
    } else if (record.request == USBDEVFS_RESET) {
      reply = {0, 0};
    } else {
      reply = {-1, ENOTTY};
    }
  }
  record.result = reply.result;
  record.error = reply.error;
  {
    std::lock_guard lock(mutex_);
    calls_.push_back(record);
  }
  umockdev_ioctl_client_complete(client, reply.result, reply.error);
}

IoctlReply UsbfsFake::control(IoctlCall& call) {
  UsbfsCall& r = call.record();
  const bool in = (r.request_type & 0x80) != 0;
  std::uint8_t* buffer =
      r.length > 0 ? call.pointee(offsetof(usbdevfs_ctrltransfer, data), r.length) : nullptr;
  if (r.length > 0 && buffer == nullptr) return {-1, EFAULT};
  if (!in && buffer != nullptr) r.data.assign(buffer, buffer + r.length);

  std::optional<ControlReply> reply;
  {
    std::lock_guard lock(mutex_);
    for (auto it = rules_.rbegin(); it != rules_.rend(); ++it) {
      const auto& m = it->match;
      if (it->devnode != r.devnode) continue;
      if ((m.request_type && *m.request_type != r.request_type) ||
          (m.b_request && *m.b_request != r.b_request) || (m.value && *m.value != r.value) ||
          (m.index && *m.index != r.index)) {
        continue;
      }
      reply = it->reply;
      break;
    }
  }
  if (!reply) return {-1, EPIPE};  // what a device does with a request it does not know: stall
  if (reply->error != 0) return {-1, reply->error};
  if (!in) return {r.length, 0};
  const std::size_t n = std::min<std::size_t>(reply->data.size(), r.length);
  if (n > 0) std::memcpy(buffer, reply->data.data(), n);
  r.data.assign(reply->data.begin(), reply->data.begin() + static_cast<std::ptrdiff_t>(n));
  return {static_cast<long>(n), 0};
}

}  // namespace usbrecover::testing
