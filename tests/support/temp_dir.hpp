// SPDX-License-Identifier: MIT
#pragma once

// A private directory below $TMPDIR, removed with everything in it at the end of a test.

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace usbrecover::test {

class TempDir {
 public:
  /// Below `base`, $TMPDIR by default. (The umockdev tests' $TMPDIR is /dev/shm, which the
  /// preload redirects like all of /dev: a test that must see the real filesystem passes /tmp.)
  explicit TempDir(const std::filesystem::path& base = std::filesystem::temp_directory_path()) {
    std::string tmpl = (base / "usbrecover-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::string& path() const { return path_; }

  /// Names of the files in `sub` (relative to this directory), sorted; empty if it is missing.
  [[nodiscard]] std::vector<std::string> files(const std::string& sub) const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(path_ + "/" + sub, ec)) {
      out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::string path_;
};

}  // namespace usbrecover::test
