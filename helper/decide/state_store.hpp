// SPDX-License-Identifier: MIT
#pragma once

// The helper's state directory (/run/usbrecover by default): per-device history and locks.
// Intents live beside them (intent.hpp). Files are written atomically; a file that does not
// parse is reported and set aside, never trusted.

#include <sys/types.h>

#include <string>

#include "decide/history.hpp"
#include "error.hpp"
#include "util/atomic_file.hpp"

namespace usbrecover {

/// Holds one device's lock (flock on STATE/locks/KEY.lock) until destroyed.
class DeviceLock {
 public:
  DeviceLock() = default;
  explicit DeviceLock(int fd) : fd_(fd) {}
  DeviceLock(DeviceLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  DeviceLock& operator=(DeviceLock&& o) noexcept;
  DeviceLock(const DeviceLock&) = delete;
  DeviceLock& operator=(const DeviceLock&) = delete;
  ~DeviceLock();

 private:
  int fd_ = -1;
};

class StateStore {
 public:
  explicit StateStore(std::string root) : root_(std::move(root)) {}

  /// Takes the device's lock. With `wait`, blocks until the holder is done; without, fails at
  /// once with errnum EWOULDBLOCK when another run holds it.
  Result<DeviceLock> lock(const std::string& key, bool wait) const;

  /// The device's history; empty when there is none yet. An Error for a file that is not a
  /// history this program wrote (the caller reports it and starts afresh).
  Result<History> load(const std::string& key) const;

  /// Replaces the device's history atomically, keeping the newest kHistoryKeep records of each
  /// kind and clipping free text (an attempt's detail to 256 bytes, …), so the file stays under
  /// the 4 MiB load() reads.
  Status save(const std::string& key, History history) const;

  [[nodiscard]] const std::string& root() const { return root_; }

 private:
  Status ensure_dir(const std::string& dir, mode_t mode) const;
  std::string root_;
};

}  // namespace usbrecover
