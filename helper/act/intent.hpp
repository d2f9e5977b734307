// SPDX-License-Identifier: MIT
#pragma once

// The intent journal: before a step turns something off, the action that turns it back on is
// written to a file under the state directory, and the file goes away only once that action
// has succeeded. If the process dies in between (SIGKILL, OOM, power cut of the helper, not of
// the machine: /run is empty after boot anyway), `usbrecover repair` finds the file and does it.
//
// A file is written to a temporary name, fsync'ed and renamed, so a reader sees a whole intent
// or none. While its writer lives the file is flock'ed, so repair leaves a running recovery
// alone. File names carry the pid and a hash of the undo, so concurrent runs never collide.
// What a file says, and which undos repair accepts, is pure text handling in intent_format.hpp.

#include <string>
#include <vector>

#include "act/action.hpp"
#include "act/intent_format.hpp"
#include "error.hpp"

namespace usbrecover {

class Effects;

/// One recorded intent, held (locked) by this process until done() or until it dies.
class Intent {
 public:
  Intent() = default;
  Intent(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  Intent(Intent&& other) noexcept;
  Intent& operator=(Intent&& other) noexcept;
  Intent(const Intent&) = delete;
  Intent& operator=(const Intent&) = delete;
  /// Releases the lock but keeps the file: an intent not marked done stays for repair.
  ~Intent();

  /// The undo has been carried out: removes the file.
  Status done();
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

/// The intent directory of a state directory: STATE_DIR/intents.
std::string intent_dir(const std::string& state_dir);

/// Writes intents below one state directory.
class IntentJournal {
 public:
  explicit IntentJournal(std::string state_dir) : state_dir_(std::move(state_dir)) {}

  /// Records that `undo` must be performed if this run does not get to it. `device` names the
  /// device being recovered ("1-1.2 0665:5161"), for the messages of repair.
  Result<Intent> record(const Action& undo, const std::string& device);

 private:
  std::string state_dir_;
};

/// The outcome of repair for one file in the intent directory.
struct RepairItem {
  /// Restored: undone and removed. Gone: its target no longer exists (the device or hub was
  /// unplugged, which restores it as well), removed. Failed: the undo failed, kept. Invalid:
  /// not an intent we wrote, ignored and kept. Busy: a running recovery holds it, skipped.
  enum class Status { Restored, Gone, Failed, Invalid, Busy };
  Status status = Status::Invalid;
  std::string file;    ///< full path of the intent file
  std::string device;  ///< as recorded, may be empty for an invalid file
  std::string undo;    ///< the undo line, empty for an invalid file
  Error error;         ///< why it failed or was ignored
};

/// Performs every intent left in `state_dir` through `fx` and removes those that succeeded.
/// Files that do not parse or whose undo fails validate_undo() are reported and left alone;
/// files locked by a live run are skipped as busy. Items are in file-name order.
Result<std::vector<RepairItem>> repair_intents(const std::string& state_dir, Effects& fx, const Roots& roots);

}  // namespace usbrecover
