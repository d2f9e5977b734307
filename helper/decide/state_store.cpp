// SPDX-License-Identifier: MIT
#include "decide/state_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace usbrecover {

namespace {

constexpr std::size_t kMaxHistoryBytes = 4 * 1024 * 1024;

// Free text is clipped on save so that kHistoryKeep records of each kind always fit in
// kMaxHistoryBytes: a history that load() refused would start afresh, budget and all.
constexpr std::size_t kMaxDetailBytes = 256;        // an attempt's detail, a service's unit
constexpr std::size_t kMaxResultBytes = 64;         // $SERVICE_RESULT, $EXIT_CODE, $EXIT_STATUS
constexpr std::size_t kMaxLastFailureBytes = 8192;  // compared whole to thin out the log
constexpr std::size_t encoded(std::size_t bytes) {
  return 3 * bytes;  // every byte percent-encoded at worst
}
constexpr std::size_t kNumber = 20;  // an EpochMs or a count, and its separator
constexpr std::size_t kLongestHistory =
    32 +
    kHistoryKeep * (sizeof "attempt" + kNumber + sizeof "warm-reset" + sizeof "recovered" +
                    encoded(kMaxDetailBytes) + 1) +
    kHistoryKeep * (sizeof "service" + kNumber + sizeof "failed" + encoded(kMaxDetailBytes) + 1 +
                    3 * (encoded(kMaxResultBytes) + 1)) +
    kHistoryKeep * (sizeof "overcurrent" + 2 * kNumber) + sizeof "streak" + kNumber +
    encoded(kMaxLastFailureBytes) + 1;
static_assert(kLongestHistory <= kMaxHistoryBytes, "a history save() writes must be one load() reads");

template <typename T>
void keep_newest(std::vector<T>& v) {
  if (v.size() > kHistoryKeep) v.erase(v.begin(), v.end() - static_cast<std::ptrdiff_t>(kHistoryKeep));
}

/// Cuts `s` to at most `max` bytes, at the start of a UTF-8 sequence.
void clip(std::string& s, std::size_t max) {
  if (s.size() <= max) return;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
}

}  // namespace

DeviceLock& DeviceLock::operator=(DeviceLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

DeviceLock::~DeviceLock() {
  if (fd_ >= 0) ::close(fd_);
}

Status StateStore::ensure_dir(const std::string& dir, mode_t mode) const {
  // The root and the history are readable by all (the unprivileged watcher reads the budget
  // there), the locks are root's; whatever the umask, and whatever an older version made.
  for (const auto& [d, m] : {std::pair{root_, mode_t{0755}}, std::pair{dir, mode}}) {
    if (::mkdir(d.c_str(), m) != 0 && errno != EEXIST) return errno_error(d, "cannot create state directory");
    struct stat st {};
    if (::stat(d.c_str(), &st) == 0 && (st.st_mode & 07777) != m && st.st_uid == ::geteuid())
      (void)::chmod(d.c_str(), m);
  }
  return Ok{};
}

Result<DeviceLock> StateStore::lock(const std::string& key, bool wait) const {
  std::string dir = root_ + "/locks";
  if (auto s = ensure_dir(dir, 0700); !s) return s.error();
  std::string path = dir + "/" + key + ".lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return errno_error(path, "cannot open lock");
  int rc;
  do {
    rc = ::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB));
  } while (rc != 0 && errno == EINTR && wait);
  if (rc != 0) {
    Error e = errno_error(
        path, errno == EWOULDBLOCK ? "another recovery of this device is in progress" : "cannot lock");
    ::close(fd);
    return e;
  }
  return DeviceLock(fd);
}

Result<History> StateStore::load(const std::string& key) const {
  std::string path = root_ + "/history/" + key;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return History{};
    return errno_error(path, "cannot read history");
  }
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && text.size() <= kMaxHistoryBytes)
    text.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  if (n < 0) return errno_error(path, "cannot read history");
  if (text.size() > kMaxHistoryBytes)
    return Error{.context = {}, .object = path, .reason = "history file is too large", .errnum = 0};
  auto h = parse_history(text);
  if (!h) return Error{.context = {}, .object = path, .reason = h.error().message(), .errnum = 0};
  return h;
}

Status StateStore::save(const std::string& key, History history) const {
  std::string dir = root_ + "/history";
  if (auto s = ensure_dir(dir, 0755); !s) return s;
  keep_newest(history.attempts);
  keep_newest(history.services);
  keep_newest(history.overcurrents);
  for (auto& a : history.attempts) clip(a.detail, kMaxDetailBytes);
  for (auto& sv : history.services) {
    clip(sv.unit, kMaxDetailBytes);
    clip(sv.result, kMaxResultBytes);
    clip(sv.exit_code, kMaxResultBytes);
    clip(sv.exit_status, kMaxResultBytes);
  }
  clip(history.last_failure, kMaxLastFailureBytes);
  return write_atomically(dir + "/" + key, format_history(history), 0644);
}

}  // namespace usbrecover
