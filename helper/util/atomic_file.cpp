// SPDX-License-Identifier: MIT
#include "util/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace usbrecover {

Status write_atomically(const std::string& path, const std::string& content, mode_t mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return errno_error(tmp, "cannot create");
  // The mode asked for, whatever the umask (usbrecover@.service runs with UMask=0077).
  if (::fchmod(fd, mode) != 0) {
    Error e = errno_error(tmp, "cannot set mode");
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  }
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Error e = errno_error(tmp, "cannot write");
      ::close(fd);
      ::unlink(tmp.c_str());
      return e;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = errno_error(path, "cannot write");
    ::unlink(tmp.c_str());
    return e;
  }
  return Ok{};
}

}  // namespace usbrecover
