// SPDX-License-Identifier: MIT
#pragma once

// A stand-in for udevd's control socket: something listening on a unix socket at a path, which
// is all udevd_running() asks. Tests point Context::udev_control at it to say "udevd runs" (the
// verifier then waits for udev's events, which umockdev synthesizes), or at a path where nothing
// listens to say it does not.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

namespace usbrecover::testing {

class FakeUdevd {
 public:
  explicit FakeUdevd(std::string path) : path_(std::move(path)) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path_.copy(addr.sun_path, sizeof addr.sun_path - 1);
    fd_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd_ >= 0 &&
        (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 64) != 0)) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~FakeUdevd() {
    if (fd_ >= 0) ::close(fd_);
    ::unlink(path_.c_str());
  }
  FakeUdevd(const FakeUdevd&) = delete;
  FakeUdevd& operator=(const FakeUdevd&) = delete;

  [[nodiscard]] bool listening() const { return fd_ >= 0; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace usbrecover::testing
