// SPDX-License-Identifier: MIT
#include "act/intent.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstdio>

#include "act/effects.hpp"
#include "act/intent_format.hpp"

namespace usbrecover {

namespace {

constexpr std::string_view kSuffix = ".intent";
constexpr std::string_view kTmpSuffix = ".tmp";
constexpr std::size_t kMaxFile = 4096;

Error plain(std::string object, std::string reason) {
  return Error{.context = {}, .object = std::move(object), .reason = std::move(reason), .errnum = 0};
}

// FNV-1a: only to keep names of different undos apart, not for security.
std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

Status make_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) return Ok{};
  return errno_error(dir, "cannot create directory");
}

Status write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error(path, "write failed");
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Ok{};
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.ends_with(suffix);
}

// Reads at most kMaxFile bytes; an intent is three short lines.
Result<std::string> read_small(int fd, const std::string& path) {
  std::string out;
  char buf[1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error(path, "read failed");
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > kMaxFile) return plain(path, "too large for an intent");
  }
  return out;
}

// The writer of "<tag>-<pid>-<hash>.intent.tmp" still runs (or its pid was taken by another
// process, which only delays the clean-up of a file that does no harm).
bool writer_alive(const std::string& name) {
  const auto end = name.rfind('-');
  if (end == std::string::npos || end == 0) return false;
  const auto begin = name.rfind('-', end - 1);
  if (begin == std::string::npos) return false;
  long pid = 0;
  auto [p, ec] = std::from_chars(name.data() + begin + 1, name.data() + end, pid);
  if (ec != std::errc() || p != name.data() + end || pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

// True when the open file is still the one at `path` (not removed, not replaced).
bool still_linked(int fd, const std::string& path) {
  struct stat open {};
  struct stat named {};
  return ::fstat(fd, &open) == 0 && open.st_nlink > 0 && ::lstat(path.c_str(), &named) == 0 &&
         named.st_ino == open.st_ino && named.st_dev == open.st_dev;
}

std::string last_component(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

}  // namespace

Intent::Intent(Intent&& other) noexcept : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

Intent& Intent::operator=(Intent&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

Intent::~Intent() {
  if (fd_ >= 0) ::close(fd_);
}

Status Intent::done() {
  if (fd_ < 0) return Ok{};
  // Unlink while still holding the lock, so repair never sees the file unlocked.
  Status st = Ok{};
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) st = errno_error(path_, "cannot remove intent");
  ::close(fd_);
  fd_ = -1;
  return st;
}

std::string intent_dir(const std::string& state_dir) {
  return state_dir + "/intents";
}

Result<Intent> IntentJournal::record(const Action& undo, const std::string& device) {
  std::string line = to_string(undo);
  if (device.find('\n') != std::string::npos || line.find('\n') != std::string::npos) {
    return plain(line, "cannot be recorded as an intent");
  }
  std::string dir = intent_dir(state_dir_);
  if (auto st = make_dir(state_dir_); !st) return st.error();
  if (auto st = make_dir(dir); !st) return st.error();

  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a(line)));
  std::string tag = undo.kind == Action::Kind::PortPower ? "port-power" : last_component(undo.target);
  std::string path = dir + "/" + tag + "-" + std::to_string(::getpid()) + "-" + hash + std::string(kSuffix);
  std::string tmp = path + std::string(kTmpSuffix);

  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return errno_error(tmp, "cannot create intent");
  auto fail = [&](Error e) -> Result<Intent> {
    ::unlink(tmp.c_str());
    ::close(fd);
    return e;
  };
  // Locked before it gets its final name: repair must never find an unlocked live intent.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) return fail(errno_error(tmp, "cannot lock intent"));
  std::string text = format_intent(device, line);
  if (auto st = write_all(fd, text, tmp); !st) return fail(st.error());
  if (::fsync(fd) != 0) return fail(errno_error(tmp, "fsync failed"));
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(errno_error(path, "cannot rename intent"));
  // The rename itself is durable only once the directory is synced.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Intent(std::move(path), fd);
}

Result<std::vector<RepairItem>> repair_intents(const std::string& state_dir, Effects& fx,
                                               const Roots& roots) {
  std::string dir = intent_dir(state_dir);
  std::vector<std::string> names;
  {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      if (errno == ENOENT) return std::vector<RepairItem>{};  // nothing was ever left
      return errno_error(dir, "cannot read directory");
    }
    while (const dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(std::move(n));
    }
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());

  std::vector<RepairItem> items;
  for (const std::string& name : names) {
    std::string path = dir + "/" + name;
    if (ends_with(name, std::string(kSuffix) + std::string(kTmpSuffix))) {
      // A writer that died before the rename never performed its step: nothing to undo. A live
      // writer creates the file before it can lock it, so an unlocked one may still be in use:
      // only a file whose writer (the pid in its name) is gone is removed.
      if (writer_alive(name)) continue;
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0) ::unlink(path.c_str());
      if (fd >= 0) ::close(fd);
      continue;
    }
    RepairItem item;
    item.file = path;
    if (!ends_with(name, kSuffix)) {
      item.error = plain(path, "not an intent file");
      items.push_back(std::move(item));
      continue;
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0 && errno == ENOENT) continue;  // its writer completed it since the listing
    if (fd < 0) {
      item.error = errno_error(path, "cannot open");
      items.push_back(std::move(item));
      continue;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid() ||
        (st.st_mode & 022) != 0) {
      item.error = plain(path, "not a private regular file of this user");
    } else if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      item.status = RepairItem::Status::Busy;
      item.error = plain(path, "held by a recovery still running");
    } else if (!still_linked(fd, path)) {
      // Its writer finished (removed it, holding the lock) between our open and our lock: the
      // thing is on again, and this is not an intent any more.
      ::close(fd);
      continue;
    } else if (auto text = read_small(fd, path); !text) {
      item.error = text.error();
    } else if (auto parsed = parse_intent(*text); !parsed) {
      item.error = plain(path, "not a valid intent");
    } else {
      item.device = parsed->device;
      item.undo = parsed->line;
      if (auto valid = validate_undo(parsed->undo, roots); !valid) {
        item.error = valid.error().within(path);
      } else if (auto done = perform(fx, parsed->undo); !done && done.error().errnum != ENOENT) {
        item.status = RepairItem::Status::Failed;
        item.error = done.error();
      } else {
        item.status = done ? RepairItem::Status::Restored : RepairItem::Status::Gone;
        if (!done) item.error = done.error();
        if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
          item.status = RepairItem::Status::Failed;
          item.error = errno_error(path, "restored, but cannot remove intent");
        }
      }
    }
    ::close(fd);
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace usbrecover
