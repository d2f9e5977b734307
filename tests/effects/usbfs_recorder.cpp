// SPDX-License-Identifier: MIT
#include "usbfs_recorder.hpp"

#include <linux/usbdevice_fs.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace usbrecover::test {

UsbfsRecorder::UsbfsRecorder() : base_(umockdev_ioctl_base_new()) {
  g_signal_connect(base_, "handle-ioctl", G_CALLBACK(on_ioctl), this);
}

UsbfsRecorder::~UsbfsRecorder() {
  g_object_unref(base_);
}

void UsbfsRecorder::attach(UMockdevTestbed* testbed, const std::string& devnode) {
  GError* error = nullptr;
  if (!umockdev_testbed_attach_ioctl(testbed, devnode.c_str(), base_, &error)) {
    g_printerr("attach_ioctl %s: %s\n", devnode.c_str(), error ? error->message : "?");
    std::abort();
  }
}

void UsbfsRecorder::fail_with(int errnum, int count) {
  std::lock_guard lock(mu_);
  errnum_ = errnum;
  fail_count_ = count;
}

std::vector<UsbfsCall> UsbfsRecorder::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

gboolean UsbfsRecorder::on_ioctl(UMockdevIoctlBase*, UMockdevIoctlClient* client, gpointer self_ptr) {
  auto* self = static_cast<UsbfsRecorder*>(self_ptr);
  UsbfsCall call;
  call.devnode = umockdev_ioctl_client_get_devnode(client);
  call.request = umockdev_ioctl_client_get_request(client);
  if (call.request == USBDEVFS_CONTROL) {
    GError* error = nullptr;
    UMockdevIoctlData* data = umockdev_ioctl_data_resolve(umockdev_ioctl_client_get_arg(client), 0,
                                                          sizeof(usbdevfs_ctrltransfer), &error);
    if (data == nullptr) {
      g_clear_error(&error);
      umockdev_ioctl_client_complete(client, -1, EFAULT);
      return TRUE;
    }
    usbdevfs_ctrltransfer ctrl{};
    std::memcpy(&ctrl, data->data, sizeof ctrl);
    g_object_unref(data);
    call.request_type = ctrl.bRequestType;
    call.request_code = ctrl.bRequest;
    call.value = ctrl.wValue;
    call.index = ctrl.wIndex;
    call.length = ctrl.wLength;
    call.timeout = ctrl.timeout;
  } else if (call.request != USBDEVFS_RESET) {
    umockdev_ioctl_client_complete(client, -1, ENOTTY);
    return TRUE;
  }
  int err = 0;
  {
    std::lock_guard lock(self->mu_);
    self->calls_.push_back(call);
    if (self->fail_count_ != 0) {
      err = self->errnum_;
      if (self->fail_count_ > 0) --self->fail_count_;
    }
  }
  umockdev_ioctl_client_complete(client, err == 0 ? 0 : -1, err);
  return TRUE;
}

}  // namespace usbrecover::test
