// SPDX-License-Identifier: MIT
#pragma once

// Writes a set of files all or nothing: every file is staged next to its target first, then
// the targets are replaced one by one with a backup of each, and any failure puts every
// earlier target back. Unchanged files are not touched, so two runs leave identical bytes and
// mtimes.

#include <string>
#include <vector>

#include "error.hpp"

namespace usbrecover::gen {

/// One file to write (content set) or remove (remove = true).
struct FileChange {
  std::string path;  ///< absolute or relative to the working directory
  std::string content;
  bool remove = false;
};

/// What happened to each file, in the order given. Masked: the target is a symbolic link to
/// /dev/null (an administrator's mask), left as it is.
enum class WriteOutcome { Created, Updated, Unchanged, Removed, Masked };
struct WriteReport {
  std::vector<std::pair<std::string, WriteOutcome>> files;
};

/// Applies every change or none. Creates missing parent directories (and removes the ones it
/// created if it fails). File mode 0644. A target that is a symbolic link is never followed:
/// one to /dev/null is left alone (Masked), any other is an error and nothing is written.
Result<WriteReport> write_all(const std::vector<FileChange>& changes);

}  // namespace usbrecover::gen
