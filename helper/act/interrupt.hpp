// SPDX-License-Identifier: MIT
#pragma once

// A run that has turned something off must turn it back on before the process goes away, even
// when systemd stops the service or the user presses ^C. While an InterruptGuard lives, SIGTERM,
// SIGINT and SIGHUP only raise a flag; the executor checks it after every step and
// LinuxEffects::pause() returns early, so the undo runs at once.

namespace usbrecover {

/// Catches SIGTERM, SIGINT and SIGHUP for its lifetime and restores the previous handlers
/// afterwards. At most one exists at a time (the flag behind it is process-wide, as a signal
/// handler needs it to be).
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  /// The signal that arrived since construction, 0 if none.
  [[nodiscard]] int caught() const;
};

}  // namespace usbrecover
