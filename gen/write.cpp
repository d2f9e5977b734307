// SPDX-License-Identifier: MIT
#include "write.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

namespace usbrecover::gen {

namespace {

namespace fs = std::filesystem;

std::optional<std::string> read_existing(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string sibling(const std::string& path, const char* suffix) {
  fs::path p(path);
  return (p.parent_path() / ("." + p.filename().string() + suffix)).string();
}

/// Writes `content` to a new file at `path` and starts its writeback; the caller fsyncs and
/// closes the returned descriptor once every file is staged. fsync() one file after another
/// made the file system commit its journal once per file (a dozen commits, 10 to 40 ms on a
/// busy disk); with the writeback of all of them under way first, the first fsync commits them
/// all and the others find little left to wait for.
Result<int> write_file(const std::string& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return errno_error(path, "cannot create");
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Error e = errno_error(path, "cannot write");
      ::close(fd);
      return e;
    }
    done += static_cast<std::size_t>(n);
  }
  ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);  // only a head start: fsync follows
  return fd;
}

/// Creates the missing ancestors of `dir`, outermost first, remembering which it made.
Status make_dirs(const fs::path& dir, std::vector<fs::path>& created) {
  if (dir.empty()) return Ok{};
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Ok{};
    errno = ENOTDIR;
    return errno_error(dir.string(), "cannot create directory");
  }
  if (auto s = make_dirs(dir.parent_path(), created); !s) return s;
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return errno_error(dir.string(), "cannot create directory");
  created.push_back(dir);
  return Ok{};
}

struct Pending {
  const FileChange* change;
  std::string staged;  ///< the new content, next to the target
  std::string backup;  ///< the old content, once the target was replaced
  bool had_old = false;
  bool committed = false;
  int fd = -1;  ///< the staged file, open until it is synced
};

}  // namespace

Result<WriteReport> write_all(const std::vector<FileChange>& changes) {
  std::vector<std::optional<WriteOutcome>> outcomes(changes.size());
  std::vector<Pending> pending;
  std::vector<fs::path> created_dirs;

  auto rollback = [&](const Error& e) -> Error {
    for (auto it = pending.rbegin(); it != pending.rend(); ++it) {
      if (it->committed) {
        if (it->had_old)
          ::rename(it->backup.c_str(), it->change->path.c_str());
        else
          ::unlink(it->change->path.c_str());
      } else if (it->had_old && !it->backup.empty()) {
        ::unlink(it->backup.c_str());
      }
      if (!it->staged.empty()) ::unlink(it->staged.c_str());
      if (it->fd >= 0) ::close(it->fd);
    }
    for (auto it = created_dirs.rbegin(); it != created_dirs.rend(); ++it) ::rmdir(it->c_str());
    return e;
  };

  // Stage: nothing visible changes yet.
  for (const auto& c : changes) {
    // An administrator masks a unit or drop-in with a link to /dev/null: that stays as it is.
    // No other link is followed (it could point anywhere) or replaced (it is someone's).
    struct stat lst {};
    if (::lstat(c.path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
      std::error_code ec;
      const fs::path to = fs::read_symlink(c.path, ec);
      if (!ec && to == "/dev/null") {
        outcomes[static_cast<std::size_t>(&c - changes.data())] = WriteOutcome::Masked;
        continue;
      }
      return rollback(Error{.context = {},
                            .object = c.path,
                            .reason = "is a symbolic link" +
                                      (ec ? std::string() : " to '" + to.string() + "'") +
                                      "; refusing to follow or replace it",
                            .errnum = 0});
    }
    auto old = read_existing(c.path);
    if (c.remove) {
      if (!old) continue;
      pending.push_back({&c, "", "", true, false});
      continue;
    }
    if (old && *old == c.content) {
      outcomes[static_cast<std::size_t>(&c - changes.data())] = WriteOutcome::Unchanged;
      continue;
    }
    if (auto s = make_dirs(fs::path(c.path).parent_path(), created_dirs); !s) return rollback(s.error());
    Pending p{&c, sibling(c.path, ".usbrecover-new"), "", old.has_value(), false};
    ::unlink(p.staged.c_str());  // a leftover from a crashed run
    auto fd = write_file(p.staged, c.content);
    if (!fd) {
      ::unlink(p.staged.c_str());
      p.staged.clear();
      return rollback(fd.error());
    }
    p.fd = *fd;
    pending.push_back(std::move(p));
  }

  // Durable before any target is replaced (write_file: why only now).
  for (auto& p : pending) {
    if (p.fd < 0) continue;
    const bool synced = ::fsync(p.fd) == 0;
    const bool closed = ::close(p.fd) == 0;
    p.fd = -1;
    if (!synced || !closed) return rollback(errno_error(p.staged, "cannot write"));
  }

  // Commit: replace each target, keeping a hard-linked backup of the old one.
  for (auto& p : pending) {
    const std::string& target = p.change->path;
    if (p.had_old) {
      p.backup = sibling(target, ".usbrecover-old");
      ::unlink(p.backup.c_str());
      if (::link(target.c_str(), p.backup.c_str()) != 0) {
        Error e = errno_error(target, "cannot keep a backup");
        p.backup.clear();
        return rollback(e);
      }
    }
    int rc = p.change->remove ? ::unlink(target.c_str()) : ::rename(p.staged.c_str(), target.c_str());
    if (rc != 0) return rollback(errno_error(target, p.change->remove ? "cannot remove" : "cannot replace"));
    p.committed = true;
    if (!p.change->remove) p.staged.clear();
  }

  for (auto& p : pending) {
    if (!p.backup.empty()) ::unlink(p.backup.c_str());
    outcomes[static_cast<std::size_t>(p.change - changes.data())] = p.change->remove ? WriteOutcome::Removed
                                                                    : p.had_old      ? WriteOutcome::Updated
                                                                                     : WriteOutcome::Created;
  }
  WriteReport report;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    if (outcomes[i]) report.files.emplace_back(changes[i].path, *outcomes[i]);
  }
  return report;
}

}  // namespace usbrecover::gen
